use kefu_proto::common::v1 as common;
use kefu_proto::customers::v1 as pb;
use kefu_testkit::{Backend, backend_tests};
use tonic::Code;

use crate::helpers::*;

backend_tests!(
    upsert_creates_then_updates_by_external_id,
    import_rejects_bad_rows_alone,
    a_retried_import_creates_nothing_twice,
);

fn crm(external_id: &str, name: &str, email: &str) -> pb::Customer {
    pb::Customer {
        external_id: external_id.into(),
        ..person(name, email)
    }
}

async fn upsert_creates_then_updates_by_external_id(backend: Backend) {
    let Some(app) = spawn(backend).await else {
        return;
    };
    let mut sync = app.integration();
    let first = sync
        .upsert_customer_by_external_id(pb::UpsertCustomerByExternalIdRequest {
            customer: Some(crm("sf-001", "Ann", "ann@example.com")),
            update_mask: None,
        })
        .await
        .unwrap()
        .into_inner();
    assert!(first.created);
    let mut changed = crm("sf-001", "Ann Smith", "ann@example.com");
    changed.tier = common::Tier::Silver as i32;
    let second = sync
        .upsert_customer_by_external_id(pb::UpsertCustomerByExternalIdRequest {
            customer: Some(changed),
            update_mask: mask(&["display_name"]),
        })
        .await
        .unwrap()
        .into_inner();
    assert!(!second.created);
    let (a, b) = (first.customer.unwrap(), second.customer.unwrap());
    assert_eq!(a.name, b.name);
    assert_eq!(b.display_name, "Ann Smith");
    assert_eq!(
        b.tier,
        common::Tier::Standard as i32,
        "only masked fields change on update"
    );
    let no_external = sync
        .upsert_customer_by_external_id(pb::UpsertCustomerByExternalIdRequest {
            customer: Some(person("X", "x@example.com")),
            update_mask: None,
        })
        .await;
    assert_status(
        no_external,
        Code::InvalidArgument,
        &["customer.external_id"],
    );
    let clash = sync
        .upsert_customer_by_external_id(pb::UpsertCustomerByExternalIdRequest {
            customer: Some(crm("sf-002", "Imposter", "ann@example.com")),
            update_mask: None,
        })
        .await;
    assert_status(clash, Code::AlreadyExists, &[]);
}

async fn import_rejects_bad_rows_alone(backend: Backend) {
    let Some(app) = spawn(backend).await else {
        return;
    };
    let mut sync = app.integration();
    sync.upsert_customer_by_external_id(pb::UpsertCustomerByExternalIdRequest {
        customer: Some(crm("sf-1", "Old Name", "one@example.com")),
        update_mask: None,
    })
    .await
    .unwrap();
    let rows = vec![
        crm("sf-1", "New Name", "one@example.com"), // 0: updates the existing customer
        crm("sf-2", "Two", "two@example.com"),      // 1: created
        crm("sf-3", "", "bad-email"),               // 2: invalid, two fields
        person("No External Id", "four@example.com"), // 3: created without external id
        crm("sf-5", "Dup", "two@example.com"),      // 4: email already taken by row 1
        crm("sf-6", "Six", "six@example.com"),      // 5: created
    ];
    let stream =
        futures::stream::iter(rows.into_iter().map(|customer| pb::ImportCustomersRequest {
            customer: Some(customer),
            request_id: String::new(),
        }));
    let result = sync.import_customers(stream).await.unwrap().into_inner();
    assert_eq!(
        (
            result.created_count,
            result.updated_count,
            result.failed_count
        ),
        (3, 1, 2)
    );
    let failed_rows: Vec<i32> = result.failures.iter().map(|f| f.row).collect();
    assert_eq!(failed_rows, vec![2, 4]);
    assert_eq!(result.failures[0].code, Code::InvalidArgument as i32);
    let fields: Vec<&str> = result.failures[0]
        .field_violations
        .iter()
        .map(|v| v.field.as_str())
        .collect();
    assert!(
        fields.contains(&"customer.display_name") && fields.contains(&"customer.emails[0]"),
        "{fields:?}"
    );
    assert_eq!(result.failures[1].code, Code::AlreadyExists as i32);
    let imported: Vec<(i32, bool)> = result.imported.iter().map(|r| (r.row, r.created)).collect();
    assert_eq!(imported, vec![(0, false), (1, true), (3, true), (5, true)]);

    let all = sync
        .list_customers(pb::ListCustomersRequest::default())
        .await
        .unwrap()
        .into_inner()
        .customers;
    assert_eq!(all.len(), 4, "rejected rows left nothing behind");
    assert!(all.iter().any(|c| c.display_name == "New Name"));
    assert!(
        !all.iter()
            .any(|c| c.external_id == "sf-5" || c.external_id == "sf-3")
    );
}

async fn a_retried_import_creates_nothing_twice(backend: Backend) {
    let Some(app) = spawn(backend).await else {
        return;
    };
    let mut sync = app.integration();
    // Rows with neither an external id nor an email: only their row keys make a retry safe.
    let rows = |count: usize| {
        futures::stream::iter((0..count).map(|i| pb::ImportCustomersRequest {
            customer: Some(pb::Customer {
                display_name: format!("Walk-in {i}"),
                ..Default::default()
            }),
            request_id: format!("import-7-row-{i}"),
        }))
    };
    let first = sync.import_customers(rows(3)).await.unwrap().into_inner();
    assert_eq!(first.created_count, 3);
    // The client did not see the answer and sends everything again, plus one more row.
    let retry = sync.import_customers(rows(4)).await.unwrap().into_inner();
    assert_eq!(retry.failed_count, 0);
    let names = |r: &pb::ImportCustomersResponse| {
        r.imported
            .iter()
            .map(|row| row.name.clone())
            .collect::<Vec<_>>()
    };
    assert_eq!(
        names(&retry)[..3],
        names(&first)[..],
        "the same rows map to the same customers"
    );
    let all = sync
        .list_customers(pb::ListCustomersRequest::default())
        .await
        .unwrap()
        .into_inner()
        .customers;
    assert_eq!(all.len(), 4, "three rows were not imported twice");
    let bad_key = futures::stream::iter(vec![pb::ImportCustomersRequest {
        customer: Some(pb::Customer {
            display_name: "X".into(),
            ..Default::default()
        }),
        request_id: "not ok!".into(),
    }]);
    let result = sync.import_customers(bad_key).await.unwrap().into_inner();
    assert_eq!(result.failures[0].field_violations[0].field, "request_id");
}
