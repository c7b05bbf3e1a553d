use kefu_proto::knowledge::v1 as pb;
use kefu_testkit::{Backend, backend_tests};
use tonic::Code;

use crate::helpers::*;

backend_tests!(
    category_tree_crud_and_order,
    category_cycles_and_bad_input_are_refused
);

async fn category(client: &mut Client, name: &str, parent: &str, position: i32) -> pb::Category {
    client
        .create_category(pb::CreateCategoryRequest {
            request_id: String::new(),
            category: Some(pb::Category {
                display_name: name.into(),
                parent: parent.into(),
                position,
                ..Default::default()
            }),
        })
        .await
        .unwrap()
        .into_inner()
}

async fn category_tree_crud_and_order(backend: Backend) {
    let Some(app) = spawn(backend).await else {
        return;
    };
    let mut admin = app.admin();
    let billing = category(&mut admin, "Billing", "", 2).await;
    let shipping = category(&mut admin, "Shipping", "", 1).await;
    let refunds = category(&mut admin, "Refunds", &billing.name, 0).await;
    assert_eq!(refunds.parent, billing.name);
    assert_eq!(refunds.locale, "en");
    let roots = admin
        .list_categories(pb::ListCategoriesRequest::default())
        .await
        .unwrap()
        .into_inner();
    let names: Vec<String> = roots
        .categories
        .iter()
        .map(|c| c.display_name.clone())
        .collect();
    assert_eq!(names, vec!["Shipping", "Billing"], "ordered by position");
    let first = app
        .customer("c1")
        .list_categories(pb::ListCategoriesRequest {
            page_size: 1,
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    let second = app
        .customer("c1")
        .list_categories(pb::ListCategoriesRequest {
            page_size: 1,
            page_token: first.next_page_token,
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(second.categories[0].name, billing.name);
    let children = admin
        .list_categories(pb::ListCategoriesRequest {
            parent: billing.name.clone(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(children.categories, vec![refunds.clone()]);
    // A category with children or articles cannot go; an empty one can.
    assert_status(
        admin
            .delete_category(pb::DeleteCategoryRequest {
                name: billing.name.clone(),
                etag: String::new(),
            })
            .await,
        Code::FailedPrecondition,
        &[],
    );
    let moved = admin
        .update_category(pb::UpdateCategoryRequest {
            category: Some(pb::Category {
                name: refunds.name.clone(),
                parent: shipping.name.clone(),
                ..Default::default()
            }),
            update_mask: mask(&["parent"]),
            etag: refunds.etag.clone(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(moved.parent, shipping.name);
    assert_status(
        admin
            .update_category(pb::UpdateCategoryRequest {
                category: Some(pb::Category {
                    name: refunds.name.clone(),
                    display_name: "x".into(),
                    ..Default::default()
                }),
                update_mask: mask(&["display_name"]),
                etag: refunds.etag,
            })
            .await,
        Code::Aborted,
        &[],
    );
    admin
        .delete_category(pb::DeleteCategoryRequest {
            name: billing.name.clone(),
            etag: String::new(),
        })
        .await
        .unwrap();
    assert_status(
        admin
            .get_category(pb::GetCategoryRequest { name: billing.name })
            .await,
        Code::NotFound,
        &[],
    );
    let article = create(
        &mut admin,
        pb::Article {
            category: shipping.name.clone(),
            ..draft("Tracking", "Where is my parcel")
        },
    )
    .await;
    assert_eq!(article.category, shipping.name);
    admin
        .delete_category(pb::DeleteCategoryRequest {
            name: refunds.name,
            etag: String::new(),
        })
        .await
        .unwrap();
    assert_status(
        admin
            .delete_category(pb::DeleteCategoryRequest {
                name: shipping.name,
                etag: String::new(),
            })
            .await,
        Code::FailedPrecondition,
        &[],
    );
}

async fn category_cycles_and_bad_input_are_refused(backend: Backend) {
    let Some(app) = spawn(backend).await else {
        return;
    };
    let mut admin = app.admin();
    let a = category(&mut admin, "A", "", 0).await;
    let b = category(&mut admin, "B", &a.name, 0).await;
    let c = category(&mut admin, "C", &b.name, 0).await;
    for parent in [&a.name, &c.name] {
        let cycle = pb::UpdateCategoryRequest {
            category: Some(pb::Category {
                name: a.name.clone(),
                parent: parent.clone(),
                ..Default::default()
            }),
            update_mask: mask(&["parent"]),
            etag: String::new(),
        };
        assert_status(
            admin.update_category(cycle).await,
            Code::InvalidArgument,
            &["category.parent"],
        );
    }
    let bad = pb::CreateCategoryRequest {
        request_id: String::new(),
        category: Some(pb::Category {
            display_name: String::new(),
            position: -1,
            locale: "not a locale".into(),
            description: "d".repeat(2001),
            parent: "articles/1".into(),
            ..Default::default()
        }),
    };
    assert_status(
        admin.create_category(bad).await,
        Code::InvalidArgument,
        &[
            "category.display_name",
            "category.position",
            "category.locale",
            "category.description",
            "category.parent",
        ],
    );
    let orphan = pb::CreateCategoryRequest {
        request_id: String::new(),
        category: Some(pb::Category {
            display_name: "X".into(),
            parent: "categories/missing".into(),
            ..Default::default()
        }),
    };
    assert_status(admin.create_category(orphan).await, Code::NotFound, &[]);
    assert_status(
        app.agent()
            .list_categories(pb::ListCategoriesRequest {
                parent: "categories/missing".into(),
                ..Default::default()
            })
            .await,
        Code::NotFound,
        &[],
    );
    let as_customer = app
        .customer("c1")
        .create_category(pb::CreateCategoryRequest {
            request_id: String::new(),
            category: Some(pb::Category {
                display_name: "X".into(),
                ..Default::default()
            }),
        })
        .await;
    assert_status(as_customer, Code::PermissionDenied, &[]);
    let roots = admin
        .list_categories(pb::ListCategoriesRequest::default())
        .await
        .unwrap()
        .into_inner();
    assert_eq!(roots.categories.len(), 1, "rejected writes created nothing");
}
