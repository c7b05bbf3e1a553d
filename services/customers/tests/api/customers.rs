use kefu_proto::common::v1 as common;
use kefu_proto::customers::v1 as pb;
use kefu_testkit::{Backend, backend_tests};
use tonic::Code;

use crate::helpers::*;

backend_tests!(
    create_and_get_normalizes_and_defaults,
    create_rejects_every_bad_field_and_writes_nothing,
    duplicate_email_and_external_id_are_already_exists,
    create_is_idempotent_by_request_id,
    batch_get_keeps_order_and_refuses_unknown_names,
    list_filters_and_pages_with_keyset_tokens,
    list_rejects_bad_paging_and_filters,
    update_applies_the_mask_and_checks_the_etag,
    update_rejects_bad_masks_and_values,
    delete_removes_the_customer_and_honours_the_etag,
);

async fn create_and_get_normalizes_and_defaults(backend: Backend) {
    let Some(app) = spawn(backend).await else {
        return;
    };
    let mut admin = app.admin();
    let created = create(
        &mut admin,
        pb::Customer {
            display_name: "  Wang Fang ".into(),
            emails: vec!["Wang.Fang@Example.CN".into()],
            phones: vec!["+86 138 0013 8000".into()],
            tags: vec!["VIP-Candidate".into()],
            attributes: [("plan".to_owned(), "pro".to_owned())].into(),
            locale: "zh-CN".into(),
            time_zone: "Asia/Shanghai".into(),
            account_owner: "agents/li-na".into(),
            ..Default::default()
        },
    )
    .await;
    assert!(created.name.starts_with("customers/"));
    assert_eq!(created.account_owner, "agents/li-na");
    assert_eq!(created.display_name, "Wang Fang");
    assert_eq!(created.emails, vec!["wang.fang@example.cn"]);
    assert_eq!(created.phones, vec!["+8613800138000"]);
    assert_eq!(created.tags, vec!["vip-candidate"]);
    assert_eq!(
        created.attributes.get("plan").map(String::as_str),
        Some("pro")
    );
    assert_eq!(created.tier, common::Tier::Standard as i32);
    assert_eq!(created.lifecycle_stage, common::LifecycleStage::New as i32);
    assert!(!created.etag.is_empty());
    assert!(created.create_time.is_some() && created.erase_time.is_none());
    let fetched = admin
        .get_customer(pb::GetCustomerRequest {
            name: created.name.clone(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(fetched, created);
    assert_status(
        admin
            .get_customer(pb::GetCustomerRequest {
                name: "customers/nope".into(),
            })
            .await,
        Code::NotFound,
        &[],
    );
    assert_status(
        admin
            .get_customer(pb::GetCustomerRequest {
                name: "tickets/1".into(),
            })
            .await,
        Code::InvalidArgument,
        &["name"],
    );
}

async fn create_rejects_every_bad_field_and_writes_nothing(backend: Backend) {
    let Some(app) = spawn(backend).await else {
        return;
    };
    let mut admin = app.admin();
    let bad = pb::Customer {
        display_name: " ".into(),
        emails: vec!["ok@example.com".into(), "not-an-email".into()],
        phones: vec!["12345".into()],
        tags: vec!["has space".into()],
        attributes: [("Bad Key".to_owned(), "v".to_owned())].into(),
        locale: "klingon please".into(),
        time_zone: "Mars/Olympus_Mons".into(),
        tier: 42,
        lifecycle_stage: -1,
        organization: "teams/1".into(),
        account_owner: "li-na".into(),
        ..Default::default()
    };
    let result = admin
        .create_customer(pb::CreateCustomerRequest {
            customer: Some(bad),
            request_id: "not valid!".into(),
        })
        .await;
    assert_status(
        result,
        Code::InvalidArgument,
        &[
            "customer.display_name",
            "customer.emails[1]",
            "customer.phones[0]",
            "customer.tags[0]",
            "customer.attributes[\"Bad Key\"]",
            "customer.locale",
            "customer.time_zone",
            "customer.tier",
            "customer.lifecycle_stage",
            "customer.organization",
            "customer.account_owner",
            "request_id",
        ],
    );
    let too_long = pb::Customer {
        display_name: "x".repeat(201),
        ..Default::default()
    };
    let result = admin
        .create_customer(pb::CreateCustomerRequest {
            customer: Some(too_long),
            request_id: String::new(),
        })
        .await;
    assert_status(result, Code::InvalidArgument, &["customer.display_name"]);
    let missing = admin
        .create_customer(pb::CreateCustomerRequest {
            customer: None,
            request_id: String::new(),
        })
        .await;
    assert_status(missing, Code::InvalidArgument, &["customer"]);
    let unknown_org = pb::Customer {
        display_name: "A".into(),
        organization: "organizations/missing".into(),
        ..Default::default()
    };
    let result = admin
        .create_customer(pb::CreateCustomerRequest {
            customer: Some(unknown_org),
            request_id: String::new(),
        })
        .await;
    assert_status(result, Code::NotFound, &[]);
    let listed = admin
        .list_customers(pb::ListCustomersRequest::default())
        .await
        .unwrap()
        .into_inner();
    assert!(
        listed.customers.is_empty(),
        "nothing may be written by a rejected create"
    );
}

async fn duplicate_email_and_external_id_are_already_exists(backend: Backend) {
    let Some(app) = spawn(backend).await else {
        return;
    };
    let mut admin = app.admin();
    let mut first = person("Ann", "ann@example.com");
    first.external_id = "crm-1".into();
    create(&mut admin, first).await;
    let same_email = person("Other Ann", "ANN@example.com");
    let status = assert_status(
        admin
            .create_customer(pb::CreateCustomerRequest {
                customer: Some(same_email),
                request_id: String::new(),
            })
            .await,
        Code::AlreadyExists,
        &[],
    );
    assert!(
        status.message().contains("ann@example.com"),
        "{}",
        status.message()
    );
    let mut same_external = person("Bob", "bob@example.com");
    same_external.external_id = "crm-1".into();
    assert_status(
        admin
            .create_customer(pb::CreateCustomerRequest {
                customer: Some(same_external),
                request_id: String::new(),
            })
            .await,
        Code::AlreadyExists,
        &[],
    );
    let listed = admin
        .list_customers(pb::ListCustomersRequest::default())
        .await
        .unwrap()
        .into_inner();
    assert_eq!(listed.customers.len(), 1);
}

async fn create_is_idempotent_by_request_id(backend: Backend) {
    let Some(app) = spawn(backend).await else {
        return;
    };
    let mut admin = app.admin();
    let request = pb::CreateCustomerRequest {
        customer: Some(person("Ann", "ann@example.com")),
        request_id: "req-123".into(),
    };
    let first = admin
        .create_customer(request.clone())
        .await
        .unwrap()
        .into_inner();
    let retry = admin.create_customer(request).await.unwrap().into_inner();
    assert_eq!(first, retry, "a retry returns what the first call created");
    let different = pb::CreateCustomerRequest {
        customer: Some(person("Bob", "bob@example.com")),
        request_id: "req-123".into(),
    };
    assert_status(
        admin.create_customer(different).await,
        Code::AlreadyExists,
        &[],
    );
    let listed = admin
        .list_customers(pb::ListCustomersRequest::default())
        .await
        .unwrap()
        .into_inner();
    assert_eq!(listed.customers.len(), 1);
}

async fn batch_get_keeps_order_and_refuses_unknown_names(backend: Backend) {
    let Some(app) = spawn(backend).await else {
        return;
    };
    let mut admin = app.admin();
    let a = create(&mut admin, person("A", "a@example.com")).await;
    let b = create(&mut admin, person("B", "b@example.com")).await;
    let got = admin
        .batch_get_customers(pb::BatchGetCustomersRequest {
            names: vec![b.name.clone(), a.name.clone()],
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(got.customers, vec![b.clone(), a.clone()]);
    let unknown = admin
        .batch_get_customers(pb::BatchGetCustomersRequest {
            names: vec![a.name.clone(), "customers/zzz".into()],
        })
        .await;
    assert_status(unknown, Code::NotFound, &[]);
    assert_status(
        admin
            .batch_get_customers(pb::BatchGetCustomersRequest { names: vec![] })
            .await,
        Code::InvalidArgument,
        &["names"],
    );
    let too_many = pb::BatchGetCustomersRequest {
        names: vec![a.name.clone(); 101],
    };
    assert_status(
        admin.batch_get_customers(too_many).await,
        Code::InvalidArgument,
        &["names"],
    );
    let bad = pb::BatchGetCustomersRequest {
        names: vec![a.name, "bad".into()],
    };
    assert_status(
        admin.batch_get_customers(bad).await,
        Code::InvalidArgument,
        &["names[1]"],
    );
}

async fn list_filters_and_pages_with_keyset_tokens(backend: Backend) {
    let Some(app) = spawn(backend).await else {
        return;
    };
    let mut admin = app.admin();
    let mut names = Vec::new();
    for i in 0..7 {
        let mut c = person(&format!("Person {i}"), &format!("p{i}@example.com"));
        if i % 2 == 0 {
            c.tags = vec!["even".into()];
            c.tier = common::Tier::Gold as i32;
        }
        if i == 3 {
            c.display_name = "Zhang 100%_done".into();
            c.lifecycle_stage = common::LifecycleStage::AtRisk as i32;
        }
        names.push(create(&mut admin, c).await.name);
    }
    // Page through everything three at a time: every customer once, in creation order.
    let mut seen = Vec::new();
    let mut token = String::new();
    loop {
        let page = admin
            .list_customers(pb::ListCustomersRequest {
                page_size: 3,
                page_token: token.clone(),
                ..Default::default()
            })
            .await
            .unwrap()
            .into_inner();
        assert!(page.customers.len() <= 3);
        seen.extend(page.customers.into_iter().map(|c| c.name));
        if page.next_page_token.is_empty() {
            break;
        }
        token = page.next_page_token;
    }
    assert_eq!(seen, names);

    let list = |request: pb::ListCustomersRequest| {
        let mut admin = admin.clone();
        async move {
            admin
                .list_customers(request)
                .await
                .unwrap()
                .into_inner()
                .customers
                .into_iter()
                .map(|c| c.name)
                .collect::<Vec<_>>()
        }
    };
    let even = list(pb::ListCustomersRequest {
        tag: "EVEN".into(),
        ..Default::default()
    })
    .await;
    assert_eq!(
        even,
        vec![
            names[0].clone(),
            names[2].clone(),
            names[4].clone(),
            names[6].clone()
        ]
    );
    let gold = list(pb::ListCustomersRequest {
        tier: common::Tier::Gold as i32,
        ..Default::default()
    })
    .await;
    assert_eq!(gold, even);
    let at_risk = list(pb::ListCustomersRequest {
        lifecycle_stage: common::LifecycleStage::AtRisk as i32,
        ..Default::default()
    })
    .await;
    assert_eq!(at_risk, vec![names[3].clone()]);
    // Text search on name and email; LIKE wildcards in the query are literal.
    assert_eq!(
        list(pb::ListCustomersRequest {
            query: "100%_".into(),
            ..Default::default()
        })
        .await,
        vec![names[3].clone()]
    );
    assert_eq!(
        list(pb::ListCustomersRequest {
            query: "P5@EXAMPLE".into(),
            ..Default::default()
        })
        .await,
        vec![names[5].clone()]
    );
    assert_eq!(
        list(pb::ListCustomersRequest {
            query: "%".into(),
            ..Default::default()
        })
        .await,
        vec![names[3].clone()]
    );
    assert!(
        list(pb::ListCustomersRequest {
            query: "p_@".into(),
            ..Default::default()
        })
        .await
        .is_empty()
    );
    let combined = list(pb::ListCustomersRequest {
        tag: "even".into(),
        query: "person 4".into(),
        ..Default::default()
    })
    .await;
    assert_eq!(combined, vec![names[4].clone()]);
}

async fn list_rejects_bad_paging_and_filters(backend: Backend) {
    let Some(app) = spawn(backend).await else {
        return;
    };
    let mut admin = app.admin();
    for i in 0..3 {
        create(
            &mut admin,
            person(&format!("P{i}"), &format!("p{i}@example.com")),
        )
        .await;
    }
    let page = admin
        .list_customers(pb::ListCustomersRequest {
            page_size: 1,
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert!(!page.next_page_token.is_empty());
    let other_filter = pb::ListCustomersRequest {
        page_size: 1,
        page_token: page.next_page_token,
        tag: "x".into(),
        ..Default::default()
    };
    assert_status(
        admin.list_customers(other_filter).await,
        Code::InvalidArgument,
        &["page_token"],
    );
    let garbage = pb::ListCustomersRequest {
        page_token: "garbage!".into(),
        ..Default::default()
    };
    assert_status(
        admin.list_customers(garbage).await,
        Code::InvalidArgument,
        &["page_token"],
    );
    let negative = pb::ListCustomersRequest {
        page_size: -1,
        ..Default::default()
    };
    assert_status(
        admin.list_customers(negative).await,
        Code::InvalidArgument,
        &["page_size"],
    );
    let bad = pb::ListCustomersRequest {
        tier: 99,
        lifecycle_stage: 77,
        tag: "no spaces allowed".into(),
        organization: "orgs/1".into(),
        query: "q".repeat(201),
        ..Default::default()
    };
    assert_status(
        admin.list_customers(bad).await,
        Code::InvalidArgument,
        &["tier", "lifecycle_stage", "tag", "organization", "query"],
    );
    let huge = admin
        .list_customers(pb::ListCustomersRequest {
            page_size: 100_000,
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        huge.customers.len(),
        3,
        "an oversized page is lowered, not refused"
    );
}

async fn update_applies_the_mask_and_checks_the_etag(backend: Backend) {
    let Some(app) = spawn(backend).await else {
        return;
    };
    let mut admin = app.admin();
    let created = create(&mut admin, person("Ann", "ann@example.com")).await;
    let change = pb::Customer {
        name: created.name.clone(),
        display_name: "Ann Lee".into(),
        tier: common::Tier::Vip as i32,
        emails: vec!["ignored@example.com".into()],
        ..Default::default()
    };
    let updated = admin
        .update_customer(pb::UpdateCustomerRequest {
            customer: Some(change.clone()),
            update_mask: mask(&["display_name", "tier"]),
            etag: created.etag.clone(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(updated.display_name, "Ann Lee");
    assert_eq!(updated.tier, common::Tier::Vip as i32);
    assert_eq!(
        updated.emails, created.emails,
        "fields outside the mask are untouched"
    );
    assert_ne!(updated.etag, created.etag);
    // The old etag is stale now: ABORTED, and nothing changes.
    let stale = pb::UpdateCustomerRequest {
        customer: Some(pb::Customer {
            name: created.name.clone(),
            display_name: "Lost Update".into(),
            ..Default::default()
        }),
        update_mask: mask(&["display_name"]),
        etag: created.etag.clone(),
    };
    assert_status(admin.update_customer(stale).await, Code::Aborted, &[]);
    let now = admin
        .get_customer(pb::GetCustomerRequest {
            name: created.name.clone(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(now, updated);
    // A no-op update changes neither the etag nor the update time.
    let same = admin
        .update_customer(pb::UpdateCustomerRequest {
            customer: Some(change),
            update_mask: mask(&["display_name"]),
            etag: String::new(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(same, updated);
    // `*` replaces every updatable field; clearing emails frees the address for someone else.
    let replaced = admin
        .update_customer(pb::UpdateCustomerRequest {
            customer: Some(pb::Customer {
                name: created.name.clone(),
                display_name: "Ann".into(),
                ..Default::default()
            }),
            update_mask: mask(&["*"]),
            etag: String::new(),
        })
        .await
        .unwrap()
        .into_inner();
    assert!(replaced.emails.is_empty());
    assert_eq!(
        replaced.tier,
        common::Tier::Vip as i32,
        "an unspecified tier keeps the current one"
    );
    create(&mut admin, person("New Ann", "ann@example.com")).await;
    let missing = pb::UpdateCustomerRequest {
        customer: Some(pb::Customer {
            name: "customers/nope".into(),
            display_name: "X".into(),
            ..Default::default()
        }),
        update_mask: mask(&["display_name"]),
        etag: String::new(),
    };
    assert_status(admin.update_customer(missing).await, Code::NotFound, &[]);
}

async fn update_rejects_bad_masks_and_values(backend: Backend) {
    let Some(app) = spawn(backend).await else {
        return;
    };
    let mut admin = app.admin();
    let a = create(&mut admin, person("A", "a@example.com")).await;
    create(&mut admin, person("B", "b@example.com")).await;
    let with = |customer: pb::Customer, paths: &[&str]| pb::UpdateCustomerRequest {
        customer: Some(customer),
        update_mask: mask(paths),
        etag: String::new(),
    };
    let named = pb::Customer {
        name: a.name.clone(),
        ..Default::default()
    };
    assert_status(
        admin
            .update_customer(pb::UpdateCustomerRequest {
                customer: Some(named.clone()),
                update_mask: None,
                etag: String::new(),
            })
            .await,
        Code::InvalidArgument,
        &["update_mask"],
    );
    assert_status(
        admin
            .update_customer(with(named.clone(), &["create_time"]))
            .await,
        Code::InvalidArgument,
        &["update_mask"],
    );
    assert_status(
        admin
            .update_customer(with(named.clone(), &["display_name"]))
            .await,
        Code::InvalidArgument,
        &["customer.display_name"],
    );
    let bad_email = pb::Customer {
        name: a.name.clone(),
        emails: vec!["x".into()],
        ..Default::default()
    };
    assert_status(
        admin.update_customer(with(bad_email, &["emails"])).await,
        Code::InvalidArgument,
        &["customer.emails[0]"],
    );
    let taken = pb::Customer {
        name: a.name.clone(),
        emails: vec!["b@example.com".into()],
        ..Default::default()
    };
    assert_status(
        admin.update_customer(with(taken, &["emails"])).await,
        Code::AlreadyExists,
        &[],
    );
    let unknown_org = pb::Customer {
        name: a.name.clone(),
        organization: "organizations/none".into(),
        ..Default::default()
    };
    assert_status(
        admin
            .update_customer(with(unknown_org, &["organization"]))
            .await,
        Code::NotFound,
        &[],
    );
    let unnamed = pb::Customer {
        display_name: "X".into(),
        ..Default::default()
    };
    assert_status(
        admin
            .update_customer(with(unnamed, &["display_name"]))
            .await,
        Code::InvalidArgument,
        &["customer.name"],
    );
    let after = admin
        .get_customer(pb::GetCustomerRequest {
            name: a.name.clone(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(after, a, "rejected updates change nothing");
}

async fn delete_removes_the_customer_and_honours_the_etag(backend: Backend) {
    let Some(app) = spawn(backend).await else {
        return;
    };
    let mut admin = app.admin();
    let a = create(&mut admin, person("A", "a@example.com")).await;
    assert_status(
        admin
            .delete_customer(pb::DeleteCustomerRequest {
                name: a.name.clone(),
                etag: "\"stale\"".into(),
            })
            .await,
        Code::Aborted,
        &[],
    );
    admin
        .delete_customer(pb::DeleteCustomerRequest {
            name: a.name.clone(),
            etag: a.etag.clone(),
        })
        .await
        .unwrap();
    assert_status(
        admin
            .get_customer(pb::GetCustomerRequest {
                name: a.name.clone(),
            })
            .await,
        Code::NotFound,
        &[],
    );
    assert_status(
        admin
            .delete_customer(pb::DeleteCustomerRequest {
                name: a.name.clone(),
                etag: String::new(),
            })
            .await,
        Code::NotFound,
        &[],
    );
    // The email is free again.
    create(&mut admin, person("A again", "a@example.com")).await;
}
