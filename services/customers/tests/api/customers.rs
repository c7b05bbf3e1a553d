use kefu_proto::customers::v1 as pb;
use kefu_testkit::{Backend, backend_tests};
use tonic::Code;

use crate::helpers::*;

backend_tests!(create_and_get_normalizes_and_defaults);

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
            ..Default::default()
        },
    )
    .await;
    assert!(created.name.starts_with("customers/"));
    assert_eq!(created.display_name, "Wang Fang");
    assert_eq!(created.emails, vec!["wang.fang@example.cn"]);
    assert_eq!(created.phones, vec!["+8613800138000"]);
    assert_eq!(created.tags, vec!["vip-candidate"]);
    assert_eq!(created.tier, pb::Tier::Standard as i32);
    assert_eq!(created.lifecycle_stage, pb::LifecycleStage::New as i32);
    assert!(!created.etag.is_empty());
    let fetched = admin
        .get_customer(pb::GetCustomerRequest {
            name: created.name.clone(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(fetched, created);
    let missing = admin
        .get_customer(pb::GetCustomerRequest {
            name: "customers/nope".into(),
        })
        .await;
    assert_status(missing, Code::NotFound, &[]);
}
