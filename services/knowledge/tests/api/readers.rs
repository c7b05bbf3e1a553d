use kefu_proto::knowledge::v1 as pb;
use kefu_testkit::{Backend, backend_tests, sent_twice};
use tonic::Code;

use crate::helpers::*;

backend_tests!(
    each_role_sees_what_the_contract_says,
    votes_are_one_per_reader_and_views_count,
    retried_views_votes_and_publishing_count_once,
    the_faq_page_puts_promoted_articles_first,
    suggestions_answer_a_ticket_in_english_and_chinese,
);

async fn each_role_sees_what_the_contract_says(backend: Backend) {
    let Some(app) = spawn(backend).await else {
        return;
    };
    let mut agent = app.agent();
    let public = published(&mut agent, draft("Public guide", "reset your password")).await;
    let internal = published(
        &mut agent,
        pb::Article {
            visibility: pb::Visibility::Internal as i32,
            ..draft(
                "Internal runbook",
                "reset password for a customer in the admin tool",
            )
        },
    )
    .await;
    let unpublished = create(&mut agent, draft("Draft notes", "password reset draft")).await;
    let cases = [
        ("customer", app.customer("c1"), vec![public.name.clone()]),
        (
            "integration",
            app.integration(),
            vec![public.name.clone(), internal.name.clone()],
        ),
        (
            "agent",
            app.agent(),
            vec![
                public.name.clone(),
                internal.name.clone(),
                unpublished.name.clone(),
            ],
        ),
        (
            "admin",
            app.admin(),
            vec![
                public.name.clone(),
                internal.name.clone(),
                unpublished.name.clone(),
            ],
        ),
    ];
    for (role, mut client, visible) in cases {
        for name in [&public.name, &internal.name, &unpublished.name] {
            let result = client
                .get_article(pb::GetArticleRequest {
                    name: name.clone(),
                    view: 0,
                })
                .await;
            if visible.contains(name) {
                assert!(result.is_ok(), "{role} should see {name}");
            } else {
                assert_status(result, Code::NotFound, &[]);
            }
        }
        let mut found: Vec<String> = search(&mut client, "password")
            .await
            .into_iter()
            .map(|h| h.article.unwrap().name)
            .collect();
        found.sort();
        let mut expected = visible.clone();
        expected.sort();
        assert_eq!(found, expected, "{role} search");
        let mut listed: Vec<String> = client
            .list_articles(pb::ListArticlesRequest::default())
            .await
            .unwrap()
            .into_inner()
            .articles
            .into_iter()
            .map(|a| a.name)
            .collect();
        listed.sort();
        assert_eq!(listed, expected, "{role} list");
    }
    for mut reader in [app.customer("c1"), app.integration()] {
        assert_status(
            reader
                .get_article(pb::GetArticleRequest {
                    name: public.name.clone(),
                    view: pb::ArticleView::Latest as i32,
                })
                .await,
            Code::PermissionDenied,
            &[],
        );
        assert_status(
            reader
                .publish_article(pb::PublishArticleRequest {
                    request_id: String::new(),
                    name: unpublished.name.clone(),
                    revision: String::new(),
                    etag: String::new(),
                })
                .await,
            Code::PermissionDenied,
            &[],
        );
        assert_status(
            reader
                .get_article_revision(pb::GetArticleRevisionRequest {
                    name: public.published_revision.clone(),
                })
                .await,
            Code::PermissionDenied,
            &[],
        );
    }
}

async fn votes_are_one_per_reader_and_views_count(backend: Backend) {
    let Some(app) = spawn(backend).await else {
        return;
    };
    let mut agent = app.agent();
    let a = published(&mut agent, draft("Vote on me", "text")).await;
    let vote = |id: &str, helpful: bool| {
        let mut client = app.customer(id);
        let name = a.name.clone();
        async move {
            client
                .vote_article(pb::VoteArticleRequest {
                    request_id: String::new(),
                    name,
                    helpful,
                })
                .await
                .unwrap()
                .into_inner()
        }
    };
    vote("c1", true).await;
    vote("c1", true).await;
    let after = vote("c2", false).await;
    assert_eq!((after.helpful_count, after.not_helpful_count), (1, 1));
    let changed = vote("c2", true).await;
    assert_eq!(
        (changed.helpful_count, changed.not_helpful_count),
        (2, 0),
        "a reader's second vote replaces the first"
    );
    let mut customer = app.customer("c1");
    for expected in 1..=3 {
        let count = customer
            .record_article_view(pb::RecordArticleViewRequest {
                request_id: String::new(),
                name: a.name.clone(),
            })
            .await
            .unwrap()
            .into_inner()
            .view_count;
        assert_eq!(count, expected);
    }
    let unpublished = create(&mut agent, draft("Not yet", "x")).await;
    assert_status(
        customer
            .vote_article(pb::VoteArticleRequest {
                request_id: String::new(),
                name: unpublished.name.clone(),
                helpful: true,
            })
            .await,
        Code::NotFound,
        &[],
    );
    assert_status(
        agent
            .vote_article(pb::VoteArticleRequest {
                request_id: String::new(),
                name: unpublished.name.clone(),
                helpful: true,
            })
            .await,
        Code::FailedPrecondition,
        &[],
    );
    assert_status(
        customer
            .record_article_view(pb::RecordArticleViewRequest {
                request_id: String::new(),
                name: "articles/none".into(),
            })
            .await,
        Code::NotFound,
        &[],
    );
}

async fn the_faq_page_puts_promoted_articles_first(backend: Backend) {
    let Some(app) = spawn(backend).await else {
        return;
    };
    let mut agent = app.agent();
    let quiet = published(
        &mut agent,
        pb::Article {
            promoted: true,
            ..draft("Promoted FAQ", "x")
        },
    )
    .await;
    let busy = published(&mut agent, draft("Most read", "x")).await;
    let loved = published(&mut agent, draft("Most loved", "x")).await;
    create(
        &mut agent,
        pb::Article {
            promoted: true,
            ..draft("Promoted draft", "x")
        },
    )
    .await;
    let mut customer = app.customer("c1");
    for _ in 0..3 {
        customer
            .record_article_view(pb::RecordArticleViewRequest {
                request_id: String::new(),
                name: busy.name.clone(),
            })
            .await
            .unwrap();
    }
    for voter in ["c1", "c2"] {
        app.customer(voter)
            .vote_article(pb::VoteArticleRequest {
                request_id: String::new(),
                name: loved.name.clone(),
                helpful: true,
            })
            .await
            .unwrap();
    }
    let by_views = customer
        .list_popular_articles(pb::ListPopularArticlesRequest::default())
        .await
        .unwrap()
        .into_inner();
    let names: Vec<String> = by_views.articles.iter().map(|a| a.title.clone()).collect();
    assert_eq!(names, vec!["Promoted FAQ", "Most read", "Most loved"]);
    let by_votes = customer
        .list_popular_articles(pb::ListPopularArticlesRequest {
            order: pb::PopularityOrder::MostHelpful as i32,
            limit: 2,
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    let names: Vec<String> = by_votes.articles.iter().map(|a| a.title.clone()).collect();
    assert_eq!(names, vec!["Promoted FAQ", "Most loved"]);
    assert_eq!(by_votes.articles[0].name, quiet.name);
    assert_status(
        customer
            .list_popular_articles(pb::ListPopularArticlesRequest {
                limit: 51,
                ..Default::default()
            })
            .await,
        Code::InvalidArgument,
        &["limit"],
    );
    assert_status(
        customer
            .list_popular_articles(pb::ListPopularArticlesRequest {
                order: 9,
                ..Default::default()
            })
            .await,
        Code::InvalidArgument,
        &["order"],
    );
}

async fn suggestions_answer_a_ticket_in_english_and_chinese(backend: Backend) {
    let Some(app) = spawn(backend).await else {
        return;
    };
    let mut agent = app.agent();
    published(
        &mut agent,
        draft(
            "How refunds work",
            "We refund to the original payment method within 5 days.",
        ),
    )
    .await;
    published(
        &mut agent,
        draft("Repairing a kettle", "Descale the kettle monthly."),
    )
    .await;
    published(
        &mut agent,
        pb::Article {
            locale: "zh-CN".into(),
            ..draft("退货流程", "如何办理退货：在订单页面提交退货申请。")
        },
    )
    .await;
    create(&mut agent, draft("Refund draft", "refund refund refund")).await;
    let ticket =
        "Hi, I was charged twice for my order and I want a refund. How long do refunds take?";
    let hits = agent
        .suggest_articles(pb::SuggestArticlesRequest {
            text: ticket.into(),
            locale: String::new(),
            limit: 3,
        })
        .await
        .unwrap()
        .into_inner()
        .results;
    assert_eq!(titles(&hits)[0], "How refunds work");
    assert!(
        !titles(&hits).contains(&"Refund draft".to_owned()),
        "drafts are never suggested"
    );
    let hits = agent
        .suggest_articles(pb::SuggestArticlesRequest {
            text: "你好，我买的水壶坏了，想退货，请问怎么办理？".into(),
            locale: "zh-CN".into(),
            limit: 0,
        })
        .await
        .unwrap()
        .into_inner()
        .results;
    assert_eq!(titles(&hits), vec!["退货流程"]);
    assert_status(
        agent
            .suggest_articles(pb::SuggestArticlesRequest {
                text: String::new(),
                locale: String::new(),
                limit: 0,
            })
            .await,
        Code::InvalidArgument,
        &["text"],
    );
    assert_status(
        agent
            .suggest_articles(pb::SuggestArticlesRequest {
                text: "x".into(),
                locale: String::new(),
                limit: 11,
            })
            .await,
        Code::InvalidArgument,
        &["limit"],
    );
}

async fn retried_views_votes_and_publishing_count_once(backend: Backend) {
    let Some(app) = spawn(backend).await else {
        return;
    };
    let mut agent = app.agent();
    let article = create(&mut agent, draft("Returns", "how to return an order")).await;
    let publish = pb::PublishArticleRequest {
        name: article.name.clone(),
        etag: article.etag.clone(),
        request_id: "publish-1".into(),
        ..Default::default()
    };
    let first = agent
        .publish_article(publish.clone())
        .await
        .unwrap()
        .into_inner();
    // The etag is stale now: only the request id lets the retry succeed.
    assert_eq!(
        agent.publish_article(publish).await.unwrap().into_inner(),
        first
    );

    let mut reader = app.customer("c1");
    let view = pb::RecordArticleViewRequest {
        name: article.name.clone(),
        request_id: "view-1".into(),
    };
    let counted = reader
        .record_article_view(view.clone())
        .await
        .unwrap()
        .into_inner();
    assert_eq!(counted.view_count, 1);
    assert_eq!(
        reader.record_article_view(view).await.unwrap().into_inner(),
        counted
    );
    let another = reader
        .record_article_view(pb::RecordArticleViewRequest {
            name: article.name.clone(),
            request_id: "view-2".into(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(another.view_count, 2);

    let vote = pb::VoteArticleRequest {
        name: article.name.clone(),
        helpful: true,
        request_id: "vote-1".into(),
    };
    let voted = sent_twice!(reader, vote_article, vote.clone());
    assert_eq!((voted.helpful_count, voted.view_count), (1, 2));

    let archive = pb::ArchiveArticleRequest {
        name: article.name.clone(),
        etag: voted.etag.clone(),
        request_id: "archive-1".into(),
    };
    let archived = sent_twice!(agent, archive_article, archive.clone());
    assert_eq!(archived.state, pb::ArticleState::Archived as i32);
}
