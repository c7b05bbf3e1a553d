use kefu_proto::common::v1 as common;
use kefu_proto::customers::v1 as pb;
use kefu_testkit::{Backend, backend_tests};
use tonic::Code;

use crate::helpers::*;

backend_tests!(
    merge_hides_the_source_and_unmerge_restores_it,
    merge_rejects_bad_pairs,
    retried_merges_and_unmerges_answer_the_first_answer,
    export_returns_everything_and_is_audited,
    erase_anonymizes_the_person_everywhere
);

async fn log(client: &mut Client, customer: &str, summary: &str) {
    client
        .log_interaction(pb::LogInteractionRequest {
            parent: customer.into(),
            interaction: Some(pb::Interaction {
                channel: common::Channel::Email as i32,
                direction: pb::Direction::Inbound as i32,
                summary: summary.into(),
                ..Default::default()
            }),
            request_id: String::new(),
        })
        .await
        .unwrap();
}

async fn timeline(client: &mut Client, customer: &str) -> Vec<String> {
    let mut summaries: Vec<String> = client
        .list_interactions(pb::ListInteractionsRequest {
            parent: customer.into(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .interactions
        .into_iter()
        .map(|i| i.summary)
        .collect();
    summaries.sort();
    summaries
}

async fn merge_hides_the_source_and_unmerge_restores_it(backend: Backend) {
    let Some(app) = spawn(backend).await else {
        return;
    };
    let mut admin = app.admin();
    let source = create(&mut admin, person("Ann (web)", "ann.web@example.com")).await;
    let target = create(&mut admin, person("Ann", "ann@example.com")).await;
    log(&mut admin, &source.name, "from the web account").await;
    log(&mut admin, &target.name, "from the main account").await;

    let merged = admin
        .merge_customers(pb::MergeCustomersRequest {
            request_id: String::new(),
            source: source.name.clone(),
            target: target.name.clone(),
            source_etag: source.etag.clone(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(merged.merged_into, target.name);
    let listed: Vec<String> = admin
        .list_customers(pb::ListCustomersRequest::default())
        .await
        .unwrap()
        .into_inner()
        .customers
        .into_iter()
        .map(|c| c.name)
        .collect();
    assert_eq!(
        listed,
        vec![target.name.clone()],
        "merged customers are hidden from List"
    );
    let with_merged = admin
        .list_customers(pb::ListCustomersRequest {
            show_merged: true,
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(with_merged.customers.len(), 2);
    assert_eq!(
        timeline(&mut admin, &target.name).await,
        vec!["from the main account", "from the web account"]
    );
    // The merged-away record cannot be edited any more; its data lives on through the target.
    let edit = pb::UpdateCustomerRequest {
        customer: Some(pb::Customer {
            name: source.name.clone(),
            display_name: "X".into(),
            ..Default::default()
        }),
        update_mask: mask(&["display_name"]),
        etag: String::new(),
    };
    assert_status(
        admin.update_customer(edit).await,
        Code::FailedPrecondition,
        &[],
    );
    // Its email is still its own: nobody else can take it.
    assert_status(
        admin
            .create_customer(pb::CreateCustomerRequest {
                customer: Some(person("Imposter", "ann.web@example.com")),
                request_id: String::new(),
            })
            .await,
        Code::AlreadyExists,
        &[],
    );

    let restored = admin
        .unmerge_customer(pb::UnmergeCustomerRequest {
            request_id: String::new(),
            name: source.name.clone(),
        })
        .await
        .unwrap()
        .into_inner();
    assert!(restored.merged_into.is_empty());
    assert_eq!(restored.emails, source.emails);
    assert_eq!(
        timeline(&mut admin, &target.name).await,
        vec!["from the main account"]
    );
    assert_eq!(
        timeline(&mut admin, &source.name).await,
        vec!["from the web account"]
    );
    assert_status(
        admin
            .unmerge_customer(pb::UnmergeCustomerRequest {
                request_id: String::new(),
                name: source.name.clone(),
            })
            .await,
        Code::FailedPrecondition,
        &[],
    );
}

async fn merge_rejects_bad_pairs(backend: Backend) {
    let Some(app) = spawn(backend).await else {
        return;
    };
    let mut admin = app.admin();
    let a = create(&mut admin, person("A", "a@example.com")).await;
    let b = create(&mut admin, person("B", "b@example.com")).await;
    let c = create(&mut admin, person("C", "c@example.com")).await;
    let merge = |source: &str, target: &str, etag: &str| pb::MergeCustomersRequest {
        request_id: String::new(),
        source: source.into(),
        target: target.into(),
        source_etag: etag.into(),
    };
    assert_status(
        admin.merge_customers(merge(&a.name, &a.name, "")).await,
        Code::InvalidArgument,
        &["target"],
    );
    assert_status(
        admin.merge_customers(merge("", "bad", "")).await,
        Code::InvalidArgument,
        &["source", "target"],
    );
    assert_status(
        admin
            .merge_customers(merge(&a.name, "customers/none", ""))
            .await,
        Code::NotFound,
        &[],
    );
    assert_status(
        admin
            .merge_customers(merge(&a.name, &b.name, "\"stale\""))
            .await,
        Code::Aborted,
        &[],
    );
    admin
        .merge_customers(merge(&a.name, &b.name, ""))
        .await
        .unwrap();
    // No chains: a merged customer is neither a source nor a target, and a target with
    // merged customers cannot itself be merged away.
    assert_status(
        admin.merge_customers(merge(&a.name, &c.name, "")).await,
        Code::FailedPrecondition,
        &[],
    );
    assert_status(
        admin.merge_customers(merge(&c.name, &a.name, "")).await,
        Code::FailedPrecondition,
        &[],
    );
    assert_status(
        admin.merge_customers(merge(&b.name, &c.name, "")).await,
        Code::FailedPrecondition,
        &[],
    );
    assert_status(
        admin
            .delete_customer(pb::DeleteCustomerRequest {
                name: b.name.clone(),
                etag: String::new(),
            })
            .await,
        Code::FailedPrecondition,
        &[],
    );
}

async fn export_returns_everything_and_is_audited(backend: Backend) {
    let Some(app) = spawn(backend).await else {
        return;
    };
    let mut admin = app.admin();
    let org = admin
        .create_organization(pb::CreateOrganizationRequest {
            organization: Some(pb::Organization {
                display_name: "Org".into(),
                domains: vec!["org.com".into()],
                ..Default::default()
            }),
            request_id: String::new(),
        })
        .await
        .unwrap()
        .into_inner();
    let c = create(&mut admin, person("Exported", "e@org.com")).await;
    admin
        .record_purchase(pb::RecordPurchaseRequest {
            parent: c.name.clone(),
            purchase: Some(pb::Purchase {
                product: "Kettle".into(),
                quantity: 2,
                currency_code: "EUR".into(),
                order_reference: "SO-1".into(),
                ..Default::default()
            }),
            request_id: String::new(),
        })
        .await
        .unwrap();
    log(&mut admin, &c.name, "asked for a copy of their data").await;
    let export = app
        .integration()
        .export_customer(pb::ExportCustomerRequest {
            name: c.name.clone(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        export.customer.as_ref().map(|x| x.name.clone()),
        Some(c.name.clone())
    );
    assert_eq!(export.organization.map(|o| o.name), Some(org.name));
    assert_eq!(export.purchases.len(), 1);
    assert_eq!(export.interactions.len(), 1);
    let kinds: Vec<i32> = export.events.iter().map(|e| e.r#type).collect();
    assert!(kinds.contains(&(pb::EventType::CustomerCreated as i32)));
    assert!(kinds.contains(&(pb::EventType::PurchaseRecorded as i32)));
    assert!(kinds.contains(&(pb::EventType::InteractionLogged as i32)));
    assert!(
        kinds.contains(&(pb::EventType::CustomerExported as i32)),
        "the export itself is in the audit trail"
    );
    let exported = export
        .events
        .iter()
        .find(|e| e.r#type == pb::EventType::CustomerExported as i32)
        .unwrap();
    assert_eq!(exported.actor, "crm-sync");
    assert_status(
        admin
            .export_customer(pb::ExportCustomerRequest {
                name: "customers/none".into(),
            })
            .await,
        Code::NotFound,
        &[],
    );
}

async fn erase_anonymizes_the_person_everywhere(backend: Backend) {
    let Some(app) = spawn(backend).await else {
        return;
    };
    let mut admin = app.admin();
    let mut main = person("Li Lei", "lilei@example.com");
    main.phones = vec!["+8613900000000".into()];
    main.external_id = "crm-77".into();
    main.tier = common::Tier::Vip as i32;
    main.attributes = [("birthday".to_owned(), "1990-01-01".to_owned())].into();
    let main = create(&mut admin, main).await;
    let alias = create(&mut admin, person("Li Lei (old)", "lilei.old@example.com")).await;
    log(&mut admin, &main.name, "my address is 1 Road").await;
    log(&mut admin, &alias.name, "old account note").await;
    admin
        .merge_customers(pb::MergeCustomersRequest {
            request_id: String::new(),
            source: alias.name.clone(),
            target: main.name.clone(),
            source_etag: String::new(),
        })
        .await
        .unwrap();

    assert_status(
        admin
            .erase_customer(pb::EraseCustomerRequest {
                name: main.name.clone(),
                etag: "\"stale\"".into(),
            })
            .await,
        Code::Aborted,
        &[],
    );
    let erased = admin
        .erase_customer(pb::EraseCustomerRequest {
            name: main.name.clone(),
            etag: String::new(),
        })
        .await
        .unwrap()
        .into_inner();
    assert!(erased.erase_time.is_some());
    assert_eq!(erased.name, main.name, "the id stays for references");
    assert!(
        erased.emails.is_empty()
            && erased.phones.is_empty()
            && erased.attributes.is_empty()
            && erased.external_id.is_empty()
    );
    assert_ne!(erased.display_name, "Li Lei");
    assert_eq!(
        erased.tier,
        common::Tier::Vip as i32,
        "non-personal fields stay for statistics"
    );
    let alias_after = admin
        .get_customer(pb::GetCustomerRequest {
            name: alias.name.clone(),
        })
        .await
        .unwrap()
        .into_inner();
    assert!(
        alias_after.erase_time.is_some() && alias_after.emails.is_empty(),
        "records merged into the person are erased too"
    );
    assert!(
        timeline(&mut admin, &main.name)
            .await
            .iter()
            .all(|s| s == "[erased]")
    );
    // The freed email can be used again; the erased record can no longer be edited.
    create(&mut admin, person("New Li", "lilei@example.com")).await;
    let edit = pb::UpdateCustomerRequest {
        customer: Some(pb::Customer {
            name: main.name.clone(),
            display_name: "Back".into(),
            ..Default::default()
        }),
        update_mask: mask(&["display_name"]),
        etag: String::new(),
    };
    assert_status(
        admin.update_customer(edit).await,
        Code::FailedPrecondition,
        &[],
    );
    // Erasing again is harmless.
    let again = admin
        .erase_customer(pb::EraseCustomerRequest {
            name: main.name.clone(),
            etag: String::new(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(again.erase_time, erased.erase_time);
}

async fn retried_merges_and_unmerges_answer_the_first_answer(backend: Backend) {
    let Some(app) = spawn(backend).await else {
        return;
    };
    let mut admin = app.admin();
    let source = create(&mut admin, person("Bea (app)", "bea.app@example.com")).await;
    let target = create(&mut admin, person("Bea", "bea@example.com")).await;
    let merge = pb::MergeCustomersRequest {
        request_id: "merge-bea".into(),
        source: source.name.clone(),
        target: target.name.clone(),
        source_etag: source.etag.clone(),
    };
    let merged = admin
        .merge_customers(merge.clone())
        .await
        .unwrap()
        .into_inner();
    // The source's etag is stale and it is merged already: only the request id makes this safe.
    assert_eq!(
        admin
            .merge_customers(merge.clone())
            .await
            .unwrap()
            .into_inner(),
        merged
    );
    let mut without_id = merge.clone();
    without_id.request_id.clear();
    assert!(admin.merge_customers(without_id).await.is_err());
    let unmerge = pb::UnmergeCustomerRequest {
        request_id: "unmerge-bea".into(),
        name: source.name.clone(),
    };
    let restored = admin
        .unmerge_customer(unmerge.clone())
        .await
        .unwrap()
        .into_inner();
    assert!(restored.merged_into.is_empty());
    // After the unmerge, the merge's retry still answers what the merge answered, and merges
    // nothing again.
    assert_eq!(
        admin
            .merge_customers(merge.clone())
            .await
            .unwrap()
            .into_inner(),
        merged
    );
    assert_eq!(
        admin.unmerge_customer(unmerge).await.unwrap().into_inner(),
        restored
    );
    let now = admin
        .get_customer(pb::GetCustomerRequest {
            name: source.name.clone(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(now, restored);
    let mut reused = merge;
    reused.target = source.name.clone();
    reused.source = target.name.clone();
    assert_status(
        admin.merge_customers(reused).await,
        Code::AlreadyExists,
        &[],
    );
}
