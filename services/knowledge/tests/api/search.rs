use kefu_proto::knowledge::v1 as pb;
use kefu_testkit::{Backend, backend_tests};
use tonic::Code;

use crate::helpers::*;

backend_tests!(
    english_words_match_their_forms_and_common_words_do_not_swamp,
    titles_outrank_bodies_and_more_matched_words_rank_first,
    chinese_is_searched_by_words_not_characters,
    malformed_queries_are_literal_or_refused_cleanly,
    filters_and_pages_of_results,
);

async fn english_words_match_their_forms_and_common_words_do_not_swamp(backend: Backend) {
    let Some(app) = spawn(backend).await else {
        return;
    };
    let mut agent = app.agent();
    published(
        &mut agent,
        draft(
            "How to request a refund",
            "Open your order and choose refund. The refund is sent to the card you paid with.",
        ),
    )
    .await;
    published(&mut agent, draft("Shipping times", "The parcel and the invoice are on the way to the address of the order in the time we promised.")).await;
    published(
        &mut agent,
        draft(
            "Refunding gift cards",
            "Gift cards are refunded as store credit.",
        ),
    )
    .await;
    let mut customer = app.customer("c1");
    let hits = titles(&search(&mut customer, "refunds").await);
    assert_eq!(hits.len(), 2, "{hits:?}");
    assert!(
        hits.contains(&"How to request a refund".to_owned())
            && hits.contains(&"Refunding gift cards".to_owned())
    );
    // Stop words carry nothing: a query of them finds nothing rather than everything.
    assert!(search(&mut customer, "the and of to").await.is_empty());
    let hits = titles(&search(&mut customer, "the refund of the order").await);
    assert_eq!(hits[0], "How to request a refund", "{hits:?}");
}

async fn titles_outrank_bodies_and_more_matched_words_rank_first(backend: Backend) {
    let Some(app) = spawn(backend).await else {
        return;
    };
    let mut agent = app.agent();
    published(
        &mut agent,
        draft(
            "Care guide",
            "warranty warranty warranty warranty warranty repairs",
        ),
    )
    .await;
    published(&mut agent, draft("Warranty", "What is covered.")).await;
    published(
        &mut agent,
        draft(
            "Battery warranty and repair",
            "Send the battery for repair under warranty.",
        ),
    )
    .await;
    let hits = search(&mut app.agent(), "warranty repair").await;
    assert_eq!(
        titles(&hits),
        vec!["Battery warranty and repair", "Care guide", "Warranty"]
    );
    assert!(hits.windows(2).all(|w| w[0].score >= w[1].score));
    let hits = search(&mut app.agent(), "warranty").await;
    assert_eq!(
        titles(&hits)[..2],
        [
            "Battery warranty and repair".to_owned(),
            "Warranty".to_owned()
        ],
        "title matches first"
    );
}

async fn chinese_is_searched_by_words_not_characters(backend: Backend) {
    let Some(app) = spawn(backend).await else {
        return;
    };
    let mut agent = app.agent();
    let zh = |title: &str, body: &str| pb::Article {
        locale: "zh-CN".into(),
        ..draft(title, body)
    };
    published(
        &mut agent,
        zh("退货指南", "如何办理退货流程：登录后在订单页面申请。"),
    )
    .await;
    published(&mut agent, zh("退款说明", "退款将在三个工作日内到账。")).await;
    published(&mut agent, zh("账号安全", "如何退出登录并修改密码。")).await;
    published(
        &mut agent,
        draft("Returns in English", "How to return an item"),
    )
    .await;
    let mut customer = app.customer("c1");
    assert_eq!(
        titles(&search(&mut customer, "退货").await),
        vec!["退货指南"]
    );
    assert_eq!(
        titles(&search(&mut customer, "退款").await),
        vec!["退款说明"],
        "退款 must not match every text with 退"
    );
    assert_eq!(
        titles(&search(&mut customer, "办理退货流程").await)[0],
        "退货指南"
    );
    let hits = search(&mut customer, "退货").await;
    assert_eq!(
        hits[0].snippet, "如何办理<mark>退货</mark>流程：登录后在订单页面申请。",
        "an article without a summary gets a snippet of its body alone"
    );
    let only_zh = customer
        .search_articles(pb::SearchArticlesRequest {
            query: "退货 return".into(),
            locale: "zh-CN".into(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(titles(&only_zh.results), vec!["退货指南"]);
}

async fn malformed_queries_are_literal_or_refused_cleanly(backend: Backend) {
    let Some(app) = spawn(backend).await else {
        return;
    };
    let mut agent = app.agent();
    published(
        &mut agent,
        draft(
            "Refund policy",
            "Refunds \"within\" 30 days (terms apply) AND more",
        ),
    )
    .await;
    let mut customer = app.customer("c1");
    for query in [
        "\"refund",
        "refund\"\"",
        "(refund",
        "refund AND OR NOT",
        "refund*",
        "-refund",
        "refund'; DROP TABLE articles; --",
        "NEAR(refund policy)",
        "refund:policy^2",
    ] {
        let hits = search(&mut customer, query).await;
        assert_eq!(titles(&hits), vec!["Refund policy"], "query {query:?}");
    }
    for query in ["\"", "***", "AND", "'''", "%_%"] {
        assert!(
            search(&mut customer, query).await.is_empty(),
            "query {query:?}"
        );
    }
    let long_but_allowed = "refund ".repeat(142);
    assert_eq!(
        titles(&search(&mut customer, &long_but_allowed).await),
        vec!["Refund policy"]
    );
    let ten_kb = "x".repeat(10 * 1024);
    assert_status(
        customer
            .search_articles(pb::SearchArticlesRequest {
                query: ten_kb,
                ..Default::default()
            })
            .await,
        Code::InvalidArgument,
        &["query"],
    );
    assert_status(
        customer
            .search_articles(pb::SearchArticlesRequest {
                query: "  ".into(),
                ..Default::default()
            })
            .await,
        Code::InvalidArgument,
        &["query"],
    );
    let bad = pb::SearchArticlesRequest {
        query: "x".into(),
        tags: vec!["BAD TAG".into()],
        locale: "nope nope".into(),
        category: "x/1".into(),
        page_size: -1,
        ..Default::default()
    };
    assert_status(
        customer.search_articles(bad).await,
        Code::InvalidArgument,
        &["tags[0]", "locale", "category", "page_size"],
    );
    // The articles are all still there.
    assert_eq!(
        app.agent()
            .list_articles(pb::ListArticlesRequest::default())
            .await
            .unwrap()
            .into_inner()
            .articles
            .len(),
        1
    );
}

async fn filters_and_pages_of_results(backend: Backend) {
    let Some(app) = spawn(backend).await else {
        return;
    };
    let mut agent = app.agent();
    let category = agent
        .create_category(pb::CreateCategoryRequest {
            request_id: String::new(),
            category: Some(pb::Category {
                display_name: "Billing".into(),
                ..Default::default()
            }),
        })
        .await
        .unwrap()
        .into_inner();
    for i in 0..7 {
        let article = pb::Article {
            category: if i < 4 {
                category.name.clone()
            } else {
                String::new()
            },
            tags: if i % 2 == 0 {
                vec!["even".into()]
            } else {
                vec![]
            },
            ..draft(&format!("Invoice {i}"), &"invoice payment ".repeat(i + 1))
        };
        published(&mut agent, article).await;
    }
    create(&mut agent, draft("Invoice draft", "invoice")).await;
    let mut seen = Vec::new();
    let mut token = String::new();
    loop {
        let page = agent
            .search_articles(pb::SearchArticlesRequest {
                query: "invoice".into(),
                page_size: 3,
                page_token: token.clone(),
                ..Default::default()
            })
            .await
            .unwrap()
            .into_inner();
        seen.extend(titles(&page.results));
        if page.next_page_token.is_empty() {
            break;
        }
        token = page.next_page_token;
    }
    assert_eq!(seen.len(), 8, "staff search every state: {seen:?}");
    let unique: std::collections::HashSet<&String> = seen.iter().collect();
    assert_eq!(unique.len(), 8, "no hit twice across pages");
    let in_category = agent
        .search_articles(pb::SearchArticlesRequest {
            query: "invoice".into(),
            category: category.name.clone(),
            tags: vec!["even".into()],
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    let mut got = titles(&in_category.results);
    got.sort();
    assert_eq!(got, vec!["Invoice 0", "Invoice 2"]);
    let drafts = agent
        .search_articles(pb::SearchArticlesRequest {
            query: "invoice".into(),
            state: pb::ArticleState::Draft as i32,
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(titles(&drafts.results), vec!["Invoice draft"]);
    assert_eq!(
        search(&mut app.customer("c1"), "invoice").await.len(),
        7,
        "readers never find drafts"
    );
    let wrong = pb::SearchArticlesRequest {
        query: "payment".into(),
        page_token: token_of(&mut agent).await,
        ..Default::default()
    };
    assert_status(
        agent.search_articles(wrong).await,
        Code::InvalidArgument,
        &["page_token"],
    );
}

async fn token_of(agent: &mut Client) -> String {
    agent
        .search_articles(pb::SearchArticlesRequest {
            query: "invoice".into(),
            page_size: 1,
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .next_page_token
}

/// The same articles give the same ranking, scores and snippets on SQLite and PostgreSQL.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn search_results_are_identical_on_both_databases() {
    let Some(sqlite) = spawn(Backend::Sqlite).await else {
        return;
    };
    let Some(postgres) = spawn(Backend::Postgres).await else {
        return;
    };
    let corpus = [
        (
            "How to request a refund",
            "Open your order and choose refund.",
        ),
        (
            "Refund times",
            "Refunds take 5 days; card refunds can take longer.",
        ),
        ("退货指南", "如何办理退货流程：在订单页面申请退货。"),
        ("退款说明", "退款将在三个工作日内到账。"),
        (
            "Warranty and repairs",
            "Repairs under warranty are free of charge.",
        ),
        (
            "Shipping",
            "Parcels ship in two days; refund of shipping costs on return.",
        ),
    ];
    let mut results = Vec::new();
    for app in [&sqlite, &postgres] {
        let mut agent = app.agent();
        for (title, body) in corpus {
            published(&mut agent, draft(title, body)).await;
        }
        let mut per_query = Vec::new();
        for query in [
            "refund",
            "refunds shipping",
            "退货",
            "退款 到账",
            "warranty repair refund",
            "days",
        ] {
            let hits = search(&mut agent, query).await;
            per_query.push(
                hits.into_iter()
                    .map(|h| (h.article.unwrap().title, h.score, h.snippet))
                    .collect::<Vec<_>>(),
            );
        }
        results.push(per_query);
    }
    assert_eq!(results[0], results[1]);
    assert!(results[0].iter().all(|hits| !hits.is_empty()));
}
