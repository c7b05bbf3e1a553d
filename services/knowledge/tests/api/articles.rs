use kefu_proto::knowledge::v1 as pb;
use kefu_testkit::{Backend, backend_tests};
use tonic::Code;

use crate::helpers::*;

backend_tests!(
    editing_a_published_article_keeps_the_published_text_live,
    revisions_list_get_restore_and_publish_a_chosen_one,
    life_cycle_rules_and_etags,
    translations_form_a_set_with_one_article_per_locale,
    create_validates_and_is_idempotent,
    list_filters_and_pages,
    events_follow_the_article_life,
);

async fn editing_a_published_article_keeps_the_published_text_live(backend: Backend) {
    let Some(app) = spawn(backend).await else {
        return;
    };
    let mut agent = app.agent();
    let created = create(&mut agent, draft("Refund policy", "Refunds take 5 days.")).await;
    assert_eq!(created.state, pb::ArticleState::Draft as i32);
    assert_eq!(created.author, "agent-1");
    assert_eq!(created.revision, created.latest_revision);
    let live = publish(&mut agent, &created.name).await;
    assert_eq!(live.state, pb::ArticleState::Published as i32);
    assert_eq!(live.published_revision, created.latest_revision);
    let edited = agent
        .update_article(pb::UpdateArticleRequest {
            article: Some(pb::Article {
                name: created.name.clone(),
                body: "Refunds take 3 days.".into(),
                ..Default::default()
            }),
            update_mask: mask(&["body"]),
            etag: live.etag.clone(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_ne!(
        edited.latest_revision, edited.published_revision,
        "the edit is a new, unpublished revision"
    );
    assert_eq!(
        edited.body, "Refunds take 5 days.",
        "the default view is still the published text"
    );
    let mut customer = app.customer("c1");
    let seen = customer
        .get_article(pb::GetArticleRequest {
            name: created.name.clone(),
            view: 0,
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(seen.body, "Refunds take 5 days.");
    assert_eq!(
        titles(&search(&mut customer, "5 days").await),
        vec!["Refund policy"],
        "search sees the published text"
    );
    let latest = agent
        .get_article(pb::GetArticleRequest {
            name: created.name.clone(),
            view: pb::ArticleView::Latest as i32,
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(latest.body, "Refunds take 3 days.");
    assert_status(
        customer
            .get_article(pb::GetArticleRequest {
                name: created.name.clone(),
                view: pb::ArticleView::Latest as i32,
            })
            .await,
        Code::PermissionDenied,
        &[],
    );
    publish(&mut agent, &created.name).await;
    let seen = customer
        .get_article(pb::GetArticleRequest {
            name: created.name.clone(),
            view: 0,
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(seen.body, "Refunds take 3 days.");
    let hits = search(&mut customer, "3 days").await;
    assert_eq!(hits.len(), 1);
    assert!(
        hits[0].snippet.contains("<mark>3</mark>") && hits[0].snippet.contains("<mark>days</mark>"),
        "{}",
        hits[0].snippet
    );
}

async fn revisions_list_get_restore_and_publish_a_chosen_one(backend: Backend) {
    let Some(app) = spawn(backend).await else {
        return;
    };
    let mut agent = app.agent();
    let a = create(&mut agent, draft("Setup", "version one")).await;
    for body in ["version two", "version three"] {
        agent
            .update_article(pb::UpdateArticleRequest {
                article: Some(pb::Article {
                    name: a.name.clone(),
                    body: body.into(),
                    ..Default::default()
                }),
                update_mask: mask(&["body"]),
                etag: String::new(),
            })
            .await
            .unwrap();
    }
    // Settings changes are not revisions.
    agent
        .update_article(pb::UpdateArticleRequest {
            article: Some(pb::Article {
                name: a.name.clone(),
                tags: vec!["setup".into()],
                ..Default::default()
            }),
            update_mask: mask(&["tags"]),
            etag: String::new(),
        })
        .await
        .unwrap();
    let first_page = agent
        .list_article_revisions(pb::ListArticleRevisionsRequest {
            parent: a.name.clone(),
            page_size: 2,
            page_token: String::new(),
        })
        .await
        .unwrap()
        .into_inner();
    let second_page = agent
        .list_article_revisions(pb::ListArticleRevisionsRequest {
            parent: a.name.clone(),
            page_size: 2,
            page_token: first_page.next_page_token.clone(),
        })
        .await
        .unwrap()
        .into_inner();
    let numbers: Vec<i64> = first_page
        .revisions
        .iter()
        .chain(&second_page.revisions)
        .map(|r| r.number)
        .collect();
    assert_eq!(numbers, vec![3, 2, 1]);
    let first = second_page.revisions[0].clone();
    assert_eq!(
        agent
            .get_article_revision(pb::GetArticleRevisionRequest {
                name: first.name.clone()
            })
            .await
            .unwrap()
            .into_inner(),
        first
    );
    // Publish an older revision on purpose.
    let live = agent
        .publish_article(pb::PublishArticleRequest {
            request_id: String::new(),
            name: a.name.clone(),
            revision: first.name.clone(),
            etag: String::new(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(live.body, "version one");
    assert_eq!(live.published_revision, first.name);
    let restored = agent
        .restore_article_revision(pb::RestoreArticleRevisionRequest {
            request_id: String::new(),
            name: first_page.revisions[1].name.clone(),
            etag: String::new(),
        })
        .await
        .unwrap()
        .into_inner();
    let newest = agent
        .get_article_revision(pb::GetArticleRevisionRequest {
            name: restored.latest_revision.clone(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        (
            newest.number,
            newest.body.as_str(),
            newest.restored_from.as_str()
        ),
        (4, "version two", first_page.revisions[1].name.as_str())
    );
    assert_eq!(restored.body, "version one", "restoring does not publish");
    let missing = format!("{}/revisions/does-not-exist", a.name);
    assert_status(
        agent
            .publish_article(pb::PublishArticleRequest {
                request_id: String::new(),
                name: a.name.clone(),
                revision: missing.clone(),
                etag: String::new(),
            })
            .await,
        Code::NotFound,
        &[],
    );
    assert_status(
        agent
            .get_article_revision(pb::GetArticleRevisionRequest { name: missing })
            .await,
        Code::NotFound,
        &[],
    );
    assert_status(
        agent
            .get_article_revision(pb::GetArticleRevisionRequest {
                name: "articles/x".into(),
            })
            .await,
        Code::InvalidArgument,
        &["name"],
    );
    let other = create(&mut agent, draft("Other", "x")).await;
    assert_status(
        agent
            .publish_article(pb::PublishArticleRequest {
                request_id: String::new(),
                name: other.name,
                revision: first.name,
                etag: String::new(),
            })
            .await,
        Code::InvalidArgument,
        &["revision"],
    );
    assert_status(
        app.customer("c1")
            .list_article_revisions(pb::ListArticleRevisionsRequest {
                parent: a.name,
                ..Default::default()
            })
            .await,
        Code::PermissionDenied,
        &[],
    );
}

async fn life_cycle_rules_and_etags(backend: Backend) {
    let Some(app) = spawn(backend).await else {
        return;
    };
    let mut agent = app.agent();
    let a = published(&mut agent, draft("Live", "text")).await;
    assert_status(
        agent
            .delete_article(pb::DeleteArticleRequest {
                name: a.name.clone(),
                etag: String::new(),
            })
            .await,
        Code::FailedPrecondition,
        &[],
    );
    assert_status(
        agent
            .archive_article(pb::ArchiveArticleRequest {
                request_id: String::new(),
                name: a.name.clone(),
                etag: "\"stale\"".into(),
            })
            .await,
        Code::Aborted,
        &[],
    );
    let archived = agent
        .archive_article(pb::ArchiveArticleRequest {
            request_id: String::new(),
            name: a.name.clone(),
            etag: a.etag.clone(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(archived.state, pb::ArticleState::Archived as i32);
    assert_status(
        agent
            .archive_article(pb::ArchiveArticleRequest {
                request_id: String::new(),
                name: a.name.clone(),
                etag: String::new(),
            })
            .await,
        Code::FailedPrecondition,
        &[],
    );
    assert_status(
        app.customer("c1")
            .get_article(pb::GetArticleRequest {
                name: a.name.clone(),
                view: 0,
            })
            .await,
        Code::NotFound,
        &[],
    );
    assert!(
        search(&mut app.customer("c1"), "live").await.is_empty(),
        "archived articles leave reader search"
    );
    let back = publish(&mut agent, &a.name).await;
    assert_eq!(back.state, pb::ArticleState::Published as i32);
    agent
        .archive_article(pb::ArchiveArticleRequest {
            request_id: String::new(),
            name: a.name.clone(),
            etag: String::new(),
        })
        .await
        .unwrap();
    agent
        .delete_article(pb::DeleteArticleRequest {
            name: a.name.clone(),
            etag: String::new(),
        })
        .await
        .unwrap();
    assert_status(
        agent
            .get_article(pb::GetArticleRequest {
                name: a.name.clone(),
                view: 0,
            })
            .await,
        Code::NotFound,
        &[],
    );
    assert!(
        search(&mut agent, "live").await.is_empty(),
        "its index rows went with it"
    );
}

async fn translations_form_a_set_with_one_article_per_locale(backend: Backend) {
    let Some(app) = spawn(backend).await else {
        return;
    };
    let mut agent = app.agent();
    let english = create(
        &mut agent,
        pb::Article {
            locale: "en".into(),
            ..draft("Returns", "How to return an item")
        },
    )
    .await;
    let chinese = agent
        .create_article(pb::CreateArticleRequest {
            article: Some(pb::Article {
                locale: "zh-CN".into(),
                ..draft("退货", "如何办理退货流程")
            }),
            translation_of: english.name.clone(),
            request_id: String::new(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(chinese.translation_set, english.translation_set);
    let duplicate = pb::CreateArticleRequest {
        article: Some(pb::Article {
            locale: "zh-CN".into(),
            ..draft("退货 2", "x")
        }),
        translation_of: english.name.clone(),
        request_id: String::new(),
    };
    assert_status(
        agent.create_article(duplicate).await,
        Code::AlreadyExists,
        &[],
    );
    let relocate = pb::UpdateArticleRequest {
        article: Some(pb::Article {
            name: chinese.name.clone(),
            locale: "en".into(),
            ..Default::default()
        }),
        update_mask: mask(&["locale"]),
        etag: String::new(),
    };
    assert_status(
        agent.update_article(relocate).await,
        Code::AlreadyExists,
        &[],
    );
    let set = agent
        .list_articles(pb::ListArticlesRequest {
            translation_set: english.translation_set.clone(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(set.articles.len(), 2);
    let unknown = pb::CreateArticleRequest {
        article: Some(draft("x", "y")),
        translation_of: "articles/missing".into(),
        request_id: String::new(),
    };
    assert_status(agent.create_article(unknown).await, Code::NotFound, &[]);
}

async fn create_validates_and_is_idempotent(backend: Backend) {
    let Some(app) = spawn(backend).await else {
        return;
    };
    let mut agent = app.agent();
    let bad = pb::Article {
        title: "t".repeat(301),
        body: "b".repeat(200_001),
        summary: "s".repeat(1001),
        locale: "xx_not valid".into(),
        tags: vec!["Bad Tag".into()],
        visibility: 9,
        category: "tickets/1".into(),
        ..Default::default()
    };
    let result = agent
        .create_article(pb::CreateArticleRequest {
            article: Some(bad),
            translation_of: String::new(),
            request_id: "no spaces please".into(),
        })
        .await;
    assert_status(
        result,
        Code::InvalidArgument,
        &[
            "article.title",
            "article.body",
            "article.summary",
            "article.locale",
            "article.tags[0]",
            "article.visibility",
            "article.category",
            "request_id",
        ],
    );
    let empty_title = agent
        .create_article(pb::CreateArticleRequest {
            article: Some(draft("  ", "body")),
            translation_of: String::new(),
            request_id: String::new(),
        })
        .await;
    assert_status(empty_title, Code::InvalidArgument, &["article.title"]);
    let unknown_category = pb::Article {
        category: "categories/none".into(),
        ..draft("x", "y")
    };
    assert_status(
        agent
            .create_article(pb::CreateArticleRequest {
                article: Some(unknown_category),
                translation_of: String::new(),
                request_id: String::new(),
            })
            .await,
        Code::NotFound,
        &[],
    );
    let request = pb::CreateArticleRequest {
        article: Some(draft("Once", "only once")),
        translation_of: String::new(),
        request_id: "kb-1".into(),
    };
    let first = agent
        .create_article(request.clone())
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        agent.create_article(request).await.unwrap().into_inner(),
        first
    );
    let reuse = pb::CreateArticleRequest {
        article: Some(draft("Other", "text")),
        translation_of: String::new(),
        request_id: "kb-1".into(),
    };
    assert_status(agent.create_article(reuse).await, Code::AlreadyExists, &[]);
    let listed = agent
        .list_articles(pb::ListArticlesRequest::default())
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        listed.articles.len(),
        1,
        "only the one good create wrote anything"
    );
    assert_status(
        agent
            .update_article(pb::UpdateArticleRequest {
                article: Some(pb::Article {
                    name: first.name.clone(),
                    ..Default::default()
                }),
                update_mask: mask(&["state"]),
                etag: String::new(),
            })
            .await,
        Code::InvalidArgument,
        &["update_mask"],
    );
    assert_status(
        app.customer("c1")
            .create_article(pb::CreateArticleRequest {
                article: Some(draft("x", "y")),
                translation_of: String::new(),
                request_id: String::new(),
            })
            .await,
        Code::PermissionDenied,
        &[],
    );
    assert_status(
        app.integration()
            .create_article(pb::CreateArticleRequest {
                article: Some(draft("x", "y")),
                translation_of: String::new(),
                request_id: String::new(),
            })
            .await,
        Code::PermissionDenied,
        &[],
    );
}

async fn list_filters_and_pages(backend: Backend) {
    let Some(app) = spawn(backend).await else {
        return;
    };
    let mut agent = app.agent();
    let mut names = Vec::new();
    for i in 0..5 {
        let article = pb::Article {
            locale: if i % 2 == 0 {
                "en".into()
            } else {
                "zh-CN".into()
            },
            tags: vec![format!("t{}", i % 3)],
            ..draft(&format!("Article {i}"), "text")
        };
        let created = create(&mut agent, article).await;
        if i < 3 {
            publish(&mut agent, &created.name).await;
        }
        names.push(created.name);
    }
    let list = |request: pb::ListArticlesRequest| {
        let mut agent = agent.clone();
        async move {
            agent
                .list_articles(request)
                .await
                .unwrap()
                .into_inner()
                .articles
                .into_iter()
                .map(|a| a.name)
                .collect::<Vec<_>>()
        }
    };
    assert_eq!(
        list(pb::ListArticlesRequest {
            locale: "zh-CN".into(),
            ..Default::default()
        })
        .await,
        vec![names[1].clone(), names[3].clone()]
    );
    assert_eq!(
        list(pb::ListArticlesRequest {
            state: pb::ArticleState::Draft as i32,
            ..Default::default()
        })
        .await,
        vec![names[3].clone(), names[4].clone()]
    );
    assert_eq!(
        list(pb::ListArticlesRequest {
            tag: "t0".into(),
            ..Default::default()
        })
        .await,
        vec![names[0].clone(), names[3].clone()]
    );
    let page = agent
        .list_articles(pb::ListArticlesRequest {
            page_size: 2,
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    let rest = agent
        .list_articles(pb::ListArticlesRequest {
            page_size: 10,
            page_token: page.next_page_token.clone(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    let all: Vec<String> = page
        .articles
        .iter()
        .chain(&rest.articles)
        .map(|a| a.name.clone())
        .collect();
    assert_eq!(all, names);
    let wrong = pb::ListArticlesRequest {
        page_token: page.next_page_token,
        locale: "en".into(),
        ..Default::default()
    };
    assert_status(
        agent.list_articles(wrong).await,
        Code::InvalidArgument,
        &["page_token"],
    );
    // Readers see published articles only, and may not ask for drafts.
    let customer_view: Vec<String> = app
        .customer("c1")
        .list_articles(pb::ListArticlesRequest::default())
        .await
        .unwrap()
        .into_inner()
        .articles
        .into_iter()
        .map(|a| a.name)
        .collect();
    assert_eq!(customer_view, names[..3].to_vec());
    assert_status(
        app.customer("c1")
            .list_articles(pb::ListArticlesRequest {
                state: pb::ArticleState::Draft as i32,
                ..Default::default()
            })
            .await,
        Code::InvalidArgument,
        &["state"],
    );
}

async fn events_follow_the_article_life(backend: Backend) {
    let Some(app) = spawn(backend).await else {
        return;
    };
    let mut agent = app.agent();
    let a = create(&mut agent, draft("Evented", "body")).await;
    agent
        .update_article(pb::UpdateArticleRequest {
            article: Some(pb::Article {
                name: a.name.clone(),
                title: "Evented 2".into(),
                ..Default::default()
            }),
            update_mask: mask(&["title"]),
            etag: String::new(),
        })
        .await
        .unwrap();
    publish(&mut agent, &a.name).await;
    app.customer("c1")
        .vote_article(pb::VoteArticleRequest {
            request_id: String::new(),
            name: a.name.clone(),
            helpful: true,
        })
        .await
        .unwrap();
    agent
        .archive_article(pb::ArchiveArticleRequest {
            request_id: String::new(),
            name: a.name.clone(),
            etag: String::new(),
        })
        .await
        .unwrap();
    assert_status(
        agent
            .watch_events(pb::WatchEventsRequest::default())
            .await
            .map(|_| ()),
        Code::PermissionDenied,
        &[],
    );
    let mut stream = app
        .integration()
        .watch_events(pb::WatchEventsRequest::default())
        .await
        .unwrap()
        .into_inner();
    let mut kinds = Vec::new();
    for _ in 0..5 {
        let event = tokio::time::timeout(std::time::Duration::from_secs(10), stream.message())
            .await
            .unwrap()
            .unwrap()
            .unwrap()
            .event
            .unwrap();
        assert_eq!(event.resource, a.name);
        kinds.push(event.r#type);
    }
    assert_eq!(
        kinds,
        vec![
            pb::EventType::ArticleCreated as i32,
            pb::EventType::ArticleRevised as i32,
            pb::EventType::ArticlePublished as i32,
            pb::EventType::ArticleVoted as i32,
            pb::EventType::ArticleArchived as i32,
        ]
    );
    let bad = app
        .integration()
        .watch_events(pb::WatchEventsRequest {
            after_cursor: "x".into(),
        })
        .await;
    assert_status(bad.map(|_| ()), Code::InvalidArgument, &["after_cursor"]);
}
