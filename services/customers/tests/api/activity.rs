use kefu_proto::common::v1 as common;
use kefu_proto::customers::v1 as pb;
use kefu_testkit::{Backend, backend_tests};
use tonic::Code;

use crate::helpers::*;

backend_tests!(
    purchases_record_list_and_page,
    purchase_validation_and_idempotency,
    timeline_logs_filters_and_pages,
    interaction_validation
);

fn at(seconds: i64) -> Option<prost_types::Timestamp> {
    Some(prost_types::Timestamp { seconds, nanos: 0 })
}

fn purchase(product: &str, seconds: i64) -> pb::Purchase {
    pb::Purchase {
        product: product.into(),
        quantity: 1,
        amount_micros: 12_340_000,
        currency_code: "CNY".into(),
        purchase_time: at(seconds),
        ..Default::default()
    }
}

async fn purchases_record_list_and_page(backend: Backend) {
    let Some(app) = spawn(backend).await else {
        return;
    };
    let mut agent = app.agent();
    let c = create(&mut agent, person("Buyer", "buyer@example.com")).await;
    for (i, product) in ["Kettle", "Toaster", "Blender", "Mixer", "Oven"]
        .iter()
        .enumerate()
    {
        let recorded = agent
            .record_purchase(pb::RecordPurchaseRequest {
                parent: c.name.clone(),
                purchase: Some(purchase(product, 1_700_000_000 + i as i64 * 60)),
                request_id: String::new(),
            })
            .await
            .unwrap()
            .into_inner();
        assert!(recorded.name.starts_with(&format!("{}/purchases/", c.name)));
        assert_eq!(recorded.amount_micros, 12_340_000);
    }
    let mut products = Vec::new();
    let mut token = String::new();
    loop {
        let page = agent
            .list_purchases(pb::ListPurchasesRequest {
                parent: c.name.clone(),
                page_size: 2,
                page_token: token,
            })
            .await
            .unwrap()
            .into_inner();
        products.extend(page.purchases.into_iter().map(|p| p.product));
        if page.next_page_token.is_empty() {
            break;
        }
        token = page.next_page_token;
    }
    assert_eq!(
        products,
        vec!["Oven", "Mixer", "Blender", "Toaster", "Kettle"],
        "newest first, each once"
    );
    // The customer sees their own history.
    let own = app
        .customer(&c.name)
        .list_purchases(pb::ListPurchasesRequest {
            parent: c.name.clone(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(own.purchases.len(), 5);
    assert_status(
        agent
            .list_purchases(pb::ListPurchasesRequest {
                parent: "customers/none".into(),
                ..Default::default()
            })
            .await,
        Code::NotFound,
        &[],
    );
}

async fn purchase_validation_and_idempotency(backend: Backend) {
    let Some(app) = spawn(backend).await else {
        return;
    };
    let mut agent = app.agent();
    let c = create(&mut agent, person("Buyer", "buyer@example.com")).await;
    let bad = pb::Purchase {
        product: String::new(),
        quantity: 0,
        amount_micros: -1,
        currency_code: "usd".into(),
        purchase_time: at(32_503_680_000),
        ..Default::default()
    };
    let result = agent
        .record_purchase(pb::RecordPurchaseRequest {
            parent: c.name.clone(),
            purchase: Some(bad),
            request_id: String::new(),
        })
        .await;
    assert_status(
        result,
        Code::InvalidArgument,
        &[
            "purchase.product",
            "purchase.quantity",
            "purchase.amount_micros",
            "purchase.currency_code",
            "purchase.purchase_time",
        ],
    );
    let missing = agent
        .record_purchase(pb::RecordPurchaseRequest {
            parent: c.name.clone(),
            purchase: None,
            request_id: String::new(),
        })
        .await;
    assert_status(missing, Code::InvalidArgument, &["purchase"]);
    let unknown = agent
        .record_purchase(pb::RecordPurchaseRequest {
            parent: "customers/none".into(),
            purchase: Some(purchase("X", 1)),
            request_id: String::new(),
        })
        .await;
    assert_status(unknown, Code::NotFound, &[]);
    let request = pb::RecordPurchaseRequest {
        parent: c.name.clone(),
        purchase: Some(purchase("Kettle", 1_700_000_000)),
        request_id: "order-42".into(),
    };
    let first = agent
        .record_purchase(request.clone())
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        agent.record_purchase(request).await.unwrap().into_inner(),
        first
    );
    let listed = agent
        .list_purchases(pb::ListPurchasesRequest {
            parent: c.name.clone(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        listed.purchases.len(),
        1,
        "a retried purchase is recorded once"
    );
}

fn interaction(channel: common::Channel, summary: &str, seconds: i64) -> pb::Interaction {
    pb::Interaction {
        channel: channel as i32,
        direction: pb::Direction::Inbound as i32,
        summary: summary.into(),
        interaction_time: at(seconds),
        ..Default::default()
    }
}

async fn timeline_logs_filters_and_pages(backend: Backend) {
    let Some(app) = spawn(backend).await else {
        return;
    };
    let mut agent = app.agent();
    let c = create(&mut agent, person("Caller", "caller@example.com")).await;
    let entries = [
        (common::Channel::Email, "asked about delivery", 1_000),
        (common::Channel::Phone, "called about refund", 2_000),
        (common::Channel::Chat, "chat follow-up", 3_000),
        (common::Channel::Phone, "called again", 4_000),
    ];
    for (channel, summary, t) in entries {
        let mut i = interaction(channel, summary, 1_700_000_000 + t);
        i.ticket = "tickets/abc".into();
        let logged = agent
            .log_interaction(pb::LogInteractionRequest {
                parent: c.name.clone(),
                interaction: Some(i),
                request_id: String::new(),
            })
            .await
            .unwrap()
            .into_inner();
        assert_eq!(logged.logged_by, "agent-1");
        assert_eq!(logged.ticket, "tickets/abc");
    }
    let timeline = agent
        .list_interactions(pb::ListInteractionsRequest {
            parent: c.name.clone(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    let summaries: Vec<String> = timeline
        .interactions
        .iter()
        .map(|i| i.summary.clone())
        .collect();
    assert_eq!(
        summaries,
        vec![
            "called again",
            "chat follow-up",
            "called about refund",
            "asked about delivery"
        ]
    );
    let phone = agent
        .list_interactions(pb::ListInteractionsRequest {
            parent: c.name.clone(),
            channel: common::Channel::Phone as i32,
            page_size: 1,
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(phone.interactions.len(), 1);
    let rest = agent
        .list_interactions(pb::ListInteractionsRequest {
            parent: c.name.clone(),
            channel: common::Channel::Phone as i32,
            page_size: 1,
            page_token: phone.next_page_token.clone(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(rest.interactions[0].summary, "called about refund");
    // A token from the phone listing cannot page the email listing.
    let mismatched = pb::ListInteractionsRequest {
        parent: c.name.clone(),
        channel: common::Channel::Email as i32,
        page_token: phone.next_page_token,
        ..Default::default()
    };
    assert_status(
        agent.list_interactions(mismatched).await,
        Code::InvalidArgument,
        &["page_token"],
    );
    let window = agent
        .list_interactions(pb::ListInteractionsRequest {
            parent: c.name.clone(),
            start_time: at(1_700_002_000),
            end_time: at(1_700_004_000),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    let summaries: Vec<String> = window
        .interactions
        .iter()
        .map(|i| i.summary.clone())
        .collect();
    assert_eq!(summaries, vec!["chat follow-up", "called about refund"]);
}

async fn interaction_validation(backend: Backend) {
    let Some(app) = spawn(backend).await else {
        return;
    };
    let mut agent = app.agent();
    let c = create(&mut agent, person("Caller", "caller@example.com")).await;
    let bad = pb::Interaction {
        channel: 0,
        direction: 7,
        summary: "x".repeat(2001),
        ticket: "orders/1".into(),
        ..Default::default()
    };
    let result = agent
        .log_interaction(pb::LogInteractionRequest {
            parent: c.name.clone(),
            interaction: Some(bad),
            request_id: String::new(),
        })
        .await;
    assert_status(
        result,
        Code::InvalidArgument,
        &[
            "interaction.channel",
            "interaction.direction",
            "interaction.summary",
            "interaction.ticket",
        ],
    );
    let bad_parent = agent
        .log_interaction(pb::LogInteractionRequest {
            parent: "nope".into(),
            interaction: Some(interaction(common::Channel::Web, "s", 1)),
            request_id: String::new(),
        })
        .await;
    assert_status(bad_parent, Code::InvalidArgument, &["parent"]);
    let reversed = pb::ListInteractionsRequest {
        parent: c.name.clone(),
        start_time: at(10),
        end_time: at(5),
        ..Default::default()
    };
    assert_status(
        agent.list_interactions(reversed).await,
        Code::InvalidArgument,
        &["end_time"],
    );
    let bad_channel = pb::ListInteractionsRequest {
        parent: c.name.clone(),
        channel: 99,
        ..Default::default()
    };
    assert_status(
        agent.list_interactions(bad_channel).await,
        Code::InvalidArgument,
        &["channel"],
    );
    let empty = agent
        .list_interactions(pb::ListInteractionsRequest {
            parent: c.name.clone(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert!(
        empty.interactions.is_empty(),
        "rejected interactions are not written"
    );
}
