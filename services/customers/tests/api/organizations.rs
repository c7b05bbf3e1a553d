use kefu_proto::common::v1 as common;
use kefu_proto::customers::v1 as pb;
use kefu_testkit::{Backend, backend_tests};
use tonic::Code;

use crate::helpers::*;

backend_tests!(
    organizations_crud_and_domain_membership,
    organization_validation_and_conflicts,
    organizations_page_and_search,
);

async fn create_org(
    client: &mut Client,
    name: &str,
    domains: &[&str],
    tier: common::Tier,
) -> pb::Organization {
    client
        .create_organization(pb::CreateOrganizationRequest {
            organization: Some(pb::Organization {
                display_name: name.into(),
                domains: domains.iter().map(|d| (*d).to_owned()).collect(),
                default_tier: tier as i32,
                ..Default::default()
            }),
            request_id: String::new(),
        })
        .await
        .unwrap()
        .into_inner()
}

async fn organizations_crud_and_domain_membership(backend: Backend) {
    let Some(app) = spawn(backend).await else {
        return;
    };
    let mut admin = app.admin();
    let acme = create_org(&mut admin, "ACME", &["Acme.com"], common::Tier::Gold).await;
    assert_eq!(acme.domains, vec!["acme.com"]);
    assert_eq!(
        admin
            .get_organization(pb::GetOrganizationRequest {
                name: acme.name.clone()
            })
            .await
            .unwrap()
            .into_inner(),
        acme
    );
    // A new customer with an acme.com address joins ACME and gets its default tier.
    let wile = create(&mut admin, person("Wile", "wile@acme.com")).await;
    assert_eq!(wile.organization, acme.name);
    assert_eq!(wile.tier, common::Tier::Gold as i32);
    // An explicit tier wins over the default.
    let mut vip = person("Road Runner", "rr@acme.com");
    vip.tier = common::Tier::Vip as i32;
    assert_eq!(create(&mut admin, vip).await.tier, common::Tier::Vip as i32);
    let other = create(&mut admin, person("Other", "x@elsewhere.org")).await;
    assert!(other.organization.is_empty());
    let members = admin
        .list_customers(pb::ListCustomersRequest {
            organization: acme.name.clone(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(members.customers.len(), 2);

    let renamed = admin
        .update_organization(pb::UpdateOrganizationRequest {
            organization: Some(pb::Organization {
                name: acme.name.clone(),
                display_name: "ACME Corp".into(),
                ..Default::default()
            }),
            update_mask: mask(&["display_name"]),
            etag: acme.etag.clone(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(renamed.display_name, "ACME Corp");
    assert_eq!(renamed.domains, acme.domains);
    let stale = pb::UpdateOrganizationRequest {
        organization: Some(pb::Organization {
            name: acme.name.clone(),
            display_name: "Lost".into(),
            ..Default::default()
        }),
        update_mask: mask(&["display_name"]),
        etag: acme.etag.clone(),
    };
    assert_status(admin.update_organization(stale).await, Code::Aborted, &[]);

    // Members block deletion; once they have moved, the organization can go.
    assert_status(
        admin
            .delete_organization(pb::DeleteOrganizationRequest {
                name: acme.name.clone(),
                etag: String::new(),
            })
            .await,
        Code::FailedPrecondition,
        &[],
    );
    let members = admin
        .list_customers(pb::ListCustomersRequest {
            organization: acme.name.clone(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    for member in members.customers {
        admin
            .update_customer(pb::UpdateCustomerRequest {
                customer: Some(pb::Customer {
                    name: member.name,
                    ..Default::default()
                }),
                update_mask: mask(&["organization"]),
                etag: String::new(),
            })
            .await
            .unwrap();
    }
    admin
        .delete_organization(pb::DeleteOrganizationRequest {
            name: acme.name.clone(),
            etag: renamed.etag,
        })
        .await
        .unwrap();
    assert_status(
        admin
            .get_organization(pb::GetOrganizationRequest { name: acme.name })
            .await,
        Code::NotFound,
        &[],
    );
}

async fn organization_validation_and_conflicts(backend: Backend) {
    let Some(app) = spawn(backend).await else {
        return;
    };
    let mut admin = app.admin();
    let bad = pb::CreateOrganizationRequest {
        organization: Some(pb::Organization {
            display_name: String::new(),
            domains: vec!["not a domain".into()],
            default_tier: 9,
            tags: vec!["Bad Tag".into()],
            ..Default::default()
        }),
        request_id: String::new(),
    };
    assert_status(
        admin.create_organization(bad).await,
        Code::InvalidArgument,
        &[
            "organization.display_name",
            "organization.domains[0]",
            "organization.default_tier",
            "organization.tags[0]",
        ],
    );
    assert_status(
        admin
            .create_organization(pb::CreateOrganizationRequest::default())
            .await,
        Code::InvalidArgument,
        &["organization"],
    );
    create_org(&mut admin, "One", &["one.com"], common::Tier::Unspecified).await;
    let taken = pb::CreateOrganizationRequest {
        organization: Some(pb::Organization {
            display_name: "Two".into(),
            domains: vec!["one.com".into()],
            ..Default::default()
        }),
        request_id: String::new(),
    };
    assert_status(
        admin.create_organization(taken).await,
        Code::AlreadyExists,
        &[],
    );
    let idempotent = pb::CreateOrganizationRequest {
        organization: Some(pb::Organization {
            display_name: "Three".into(),
            ..Default::default()
        }),
        request_id: "org-req-1".into(),
    };
    let first = admin
        .create_organization(idempotent.clone())
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        admin
            .create_organization(idempotent)
            .await
            .unwrap()
            .into_inner(),
        first
    );
    assert_eq!(first.default_tier, common::Tier::Standard as i32);
    let bad_mask = pb::UpdateOrganizationRequest {
        organization: Some(pb::Organization {
            name: first.name.clone(),
            ..Default::default()
        }),
        update_mask: mask(&["name"]),
        etag: String::new(),
    };
    assert_status(
        admin.update_organization(bad_mask).await,
        Code::InvalidArgument,
        &["update_mask"],
    );
    assert_status(
        admin
            .get_organization(pb::GetOrganizationRequest {
                name: "customers/1".into(),
            })
            .await,
        Code::InvalidArgument,
        &["name"],
    );
}

async fn organizations_page_and_search(backend: Backend) {
    let Some(app) = spawn(backend).await else {
        return;
    };
    let mut admin = app.admin();
    let mut names = Vec::new();
    for name in ["Alpha Ltd", "Beta GmbH", "Gamma Inc", "阿里巴巴"] {
        names.push(
            create_org(&mut admin, name, &[], common::Tier::Unspecified)
                .await
                .name,
        );
    }
    let first = admin
        .list_organizations(pb::ListOrganizationsRequest {
            page_size: 3,
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    let second = admin
        .list_organizations(pb::ListOrganizationsRequest {
            page_size: 3,
            page_token: first.next_page_token.clone(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    let all: Vec<String> = first
        .organizations
        .iter()
        .chain(&second.organizations)
        .map(|o| o.name.clone())
        .collect();
    assert_eq!(all, names);
    assert!(second.next_page_token.is_empty());
    let found = admin
        .list_organizations(pb::ListOrganizationsRequest {
            query: "gmbh".into(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(found.organizations.len(), 1);
    let found = admin
        .list_organizations(pb::ListOrganizationsRequest {
            query: "巴巴".into(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(found.organizations.len(), 1);
}
