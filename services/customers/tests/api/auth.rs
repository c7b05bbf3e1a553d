use kefu_principal::{InternalKey, Principal, Role};
use kefu_proto::common::v1 as common;
use kefu_proto::customers::v1 as pb;
use kefu_testkit::{Backend, CallAs, backend_tests};
use tonic::{Code, Status};

use crate::helpers::*;

backend_tests!(
    calls_without_a_valid_principal_are_unauthenticated,
    health_and_reflection_need_no_principal,
    role_by_rpc_matrix_matches_the_contract,
    a_customer_reads_and_edits_only_their_own_contact_fields,
);

async fn calls_without_a_valid_principal_are_unauthenticated(backend: Backend) {
    let Some(app) = spawn(backend).await else {
        return;
    };
    let get = |call_as: CallAs| {
        let mut client = app.raw(call_as);
        async move {
            client
                .get_customer(pb::GetCustomerRequest {
                    name: "customers/x".into(),
                })
                .await
        }
    };
    assert_status(get(CallAs::anonymous()).await, Code::Unauthenticated, &[]);
    assert_status(
        get(CallAs::raw("v1.e30.AAAA")).await,
        Code::Unauthenticated,
        &[],
    );
    assert_status(
        get(CallAs::raw("not a token")).await,
        Code::Unauthenticated,
        &[],
    );
    let other_key = InternalKey::generate();
    assert_status(
        get(CallAs::new(&other_key, &Principal::new("a", Role::Admin))).await,
        Code::Unauthenticated,
        &[],
    );
    // The right key works.
    assert_status(
        get(app.server.as_principal(&Principal::new("a", Role::Admin))).await,
        Code::NotFound,
        &[],
    );
}

async fn health_and_reflection_need_no_principal(backend: Backend) {
    use tonic_health::pb::health_client::HealthClient;
    use tonic_health::pb::{HealthCheckRequest, health_check_response::ServingStatus};
    let Some(app) = spawn(backend).await else {
        return;
    };
    let mut health = HealthClient::new(app.server.channel());
    for service in ["", "kefu.customers.v1.CustomerService"] {
        let status = health
            .check(HealthCheckRequest {
                service: service.into(),
            })
            .await
            .unwrap()
            .into_inner()
            .status;
        assert_eq!(status, ServingStatus::Serving as i32, "service {service:?}");
    }
    use tonic_reflection::pb::v1::server_reflection_client::ServerReflectionClient as V1;
    use tonic_reflection::pb::v1::{
        ServerReflectionRequest, server_reflection_request::MessageRequest,
        server_reflection_response::MessageResponse,
    };
    let mut reflection = V1::new(app.server.channel());
    let request = ServerReflectionRequest {
        host: String::new(),
        message_request: Some(MessageRequest::ListServices(String::new())),
    };
    let mut responses = reflection
        .server_reflection_info(futures::stream::iter(vec![request]))
        .await
        .unwrap()
        .into_inner();
    let response = responses.message().await.unwrap().unwrap();
    let Some(MessageResponse::ListServicesResponse(list)) = response.message_response else {
        panic!("unexpected reflection response")
    };
    let services: Vec<String> = list.service.into_iter().map(|s| s.name).collect();
    assert!(
        services.contains(&"kefu.customers.v1.CustomerService".to_owned()),
        "{services:?}"
    );
    assert!(
        !services
            .iter()
            .any(|s| s.starts_with("kefu.") && s != "kefu.customers.v1.CustomerService"),
        "only the services this server serves are listed: {services:?}"
    );

    use tonic_reflection::pb::v1alpha::server_reflection_client::ServerReflectionClient as V1Alpha;
    use tonic_reflection::pb::v1alpha::{
        ServerReflectionRequest as AlphaRequest,
        server_reflection_request::MessageRequest as AlphaMessage,
    };
    let mut alpha = V1Alpha::new(app.server.channel());
    let request = AlphaRequest {
        host: String::new(),
        message_request: Some(AlphaMessage::FileContainingSymbol(
            "kefu.customers.v1.CustomerService".into(),
        )),
    };
    let mut responses = alpha
        .server_reflection_info(futures::stream::iter(vec![request]))
        .await
        .unwrap()
        .into_inner();
    assert!(
        responses.message().await.unwrap().is_some(),
        "v1alpha reflection answers"
    );
}

/// The contract's table (customer_service.proto), written out again here on purpose: the test
/// must not read the service's own table. `O` = own profile only.
const MATRIX: &[(&str, [char; 4])] = &[
    //                              ADMIN AGENT INTEG CUSTOMER
    ("CreateCustomer", ['Y', 'Y', 'Y', 'N']),
    ("GetCustomer", ['Y', 'Y', 'Y', 'O']),
    ("BatchGetCustomers", ['Y', 'Y', 'Y', 'N']),
    ("ListCustomers", ['Y', 'Y', 'Y', 'N']),
    ("UpdateCustomer", ['Y', 'Y', 'Y', 'O']),
    ("DeleteCustomer", ['Y', 'N', 'N', 'N']),
    ("UpsertCustomerByExternalId", ['Y', 'N', 'Y', 'N']),
    ("ImportCustomers", ['Y', 'N', 'Y', 'N']),
    ("MergeCustomers", ['Y', 'N', 'N', 'N']),
    ("UnmergeCustomer", ['Y', 'N', 'N', 'N']),
    ("ExportCustomer", ['Y', 'N', 'Y', 'O']),
    ("EraseCustomer", ['Y', 'N', 'N', 'N']),
    ("CreateOrganization", ['Y', 'Y', 'Y', 'N']),
    ("GetOrganization", ['Y', 'Y', 'Y', 'N']),
    ("ListOrganizations", ['Y', 'Y', 'Y', 'N']),
    ("UpdateOrganization", ['Y', 'Y', 'Y', 'N']),
    ("DeleteOrganization", ['Y', 'N', 'N', 'N']),
    ("RecordPurchase", ['Y', 'Y', 'Y', 'N']),
    ("ListPurchases", ['Y', 'Y', 'Y', 'O']),
    ("LogInteraction", ['Y', 'Y', 'Y', 'N']),
    ("ListInteractions", ['Y', 'Y', 'Y', 'N']),
    ("WatchEvents", ['Y', 'N', 'Y', 'N']),
];

/// Calls `rpc` about `subject` (a customer name) and returns the status code.
/// Calls that would destroy data are pointed at a customer that does not exist, so an allowed
/// call answers NOT_FOUND and a refused one PERMISSION_DENIED (authorization comes first).
async fn call(client: &mut Client, rpc: &str, subject: &str) -> Code {
    let missing = "customers/does-not-exist".to_owned();
    let code = |r: Result<(), Status>| r.err().map_or(Code::Ok, |s| s.code());
    match rpc {
        "CreateCustomer" => code(
            client
                .create_customer(pb::CreateCustomerRequest {
                    customer: Some(pb::Customer {
                        display_name: "M".into(),
                        ..Default::default()
                    }),
                    request_id: String::new(),
                })
                .await
                .map(drop),
        ),
        "GetCustomer" => code(
            client
                .get_customer(pb::GetCustomerRequest {
                    name: subject.into(),
                })
                .await
                .map(drop),
        ),
        "BatchGetCustomers" => code(
            client
                .batch_get_customers(pb::BatchGetCustomersRequest {
                    names: vec![subject.into()],
                })
                .await
                .map(drop),
        ),
        "ListCustomers" => code(
            client
                .list_customers(pb::ListCustomersRequest::default())
                .await
                .map(drop),
        ),
        "UpdateCustomer" => code(
            client
                .update_customer(pb::UpdateCustomerRequest {
                    customer: Some(pb::Customer {
                        name: subject.into(),
                        display_name: "Renamed".into(),
                        ..Default::default()
                    }),
                    update_mask: mask(&["display_name"]),
                    etag: String::new(),
                })
                .await
                .map(drop),
        ),
        "DeleteCustomer" => code(
            client
                .delete_customer(pb::DeleteCustomerRequest {
                    name: missing,
                    etag: String::new(),
                })
                .await
                .map(drop),
        ),
        "UpsertCustomerByExternalId" => code(
            client
                .upsert_customer_by_external_id(pb::UpsertCustomerByExternalIdRequest {
                    customer: Some(pb::Customer {
                        display_name: "U".into(),
                        external_id: "matrix-1".into(),
                        ..Default::default()
                    }),
                    update_mask: None,
                })
                .await
                .map(drop),
        ),
        "ImportCustomers" => code(
            client
                .import_customers(futures::stream::iter(
                    Vec::<pb::ImportCustomersRequest>::new(),
                ))
                .await
                .map(drop),
        ),
        "MergeCustomers" => code(
            client
                .merge_customers(pb::MergeCustomersRequest {
                    request_id: String::new(),
                    source: missing,
                    target: subject.into(),
                    source_etag: String::new(),
                })
                .await
                .map(drop),
        ),
        "UnmergeCustomer" => code(
            client
                .unmerge_customer(pb::UnmergeCustomerRequest {
                    request_id: String::new(),
                    name: missing,
                })
                .await
                .map(drop),
        ),
        "ExportCustomer" => code(
            client
                .export_customer(pb::ExportCustomerRequest {
                    name: subject.into(),
                })
                .await
                .map(drop),
        ),
        "EraseCustomer" => code(
            client
                .erase_customer(pb::EraseCustomerRequest {
                    name: missing,
                    etag: String::new(),
                })
                .await
                .map(drop),
        ),
        "CreateOrganization" => code(
            client
                .create_organization(pb::CreateOrganizationRequest {
                    organization: Some(pb::Organization {
                        display_name: "O".into(),
                        ..Default::default()
                    }),
                    request_id: String::new(),
                })
                .await
                .map(drop),
        ),
        "GetOrganization" => code(
            client
                .get_organization(pb::GetOrganizationRequest {
                    name: "organizations/missing".into(),
                })
                .await
                .map(drop),
        ),
        "ListOrganizations" => code(
            client
                .list_organizations(pb::ListOrganizationsRequest::default())
                .await
                .map(drop),
        ),
        "UpdateOrganization" => code(
            client
                .update_organization(pb::UpdateOrganizationRequest {
                    organization: Some(pb::Organization {
                        name: "organizations/missing".into(),
                        display_name: "O".into(),
                        ..Default::default()
                    }),
                    update_mask: mask(&["display_name"]),
                    etag: String::new(),
                })
                .await
                .map(drop),
        ),
        "DeleteOrganization" => code(
            client
                .delete_organization(pb::DeleteOrganizationRequest {
                    name: "organizations/missing".into(),
                    etag: String::new(),
                })
                .await
                .map(drop),
        ),
        "RecordPurchase" => code(
            client
                .record_purchase(pb::RecordPurchaseRequest {
                    parent: subject.into(),
                    purchase: Some(pb::Purchase {
                        product: "P".into(),
                        quantity: 1,
                        currency_code: "USD".into(),
                        ..Default::default()
                    }),
                    request_id: String::new(),
                })
                .await
                .map(drop),
        ),
        "ListPurchases" => code(
            client
                .list_purchases(pb::ListPurchasesRequest {
                    parent: subject.into(),
                    ..Default::default()
                })
                .await
                .map(drop),
        ),
        "LogInteraction" => code(
            client
                .log_interaction(pb::LogInteractionRequest {
                    parent: subject.into(),
                    interaction: Some(pb::Interaction {
                        channel: common::Channel::Email as i32,
                        direction: pb::Direction::Inbound as i32,
                        summary: "s".into(),
                        ..Default::default()
                    }),
                    request_id: String::new(),
                })
                .await
                .map(drop),
        ),
        "ListInteractions" => code(
            client
                .list_interactions(pb::ListInteractionsRequest {
                    parent: subject.into(),
                    ..Default::default()
                })
                .await
                .map(drop),
        ),
        "WatchEvents" => code(
            client
                .watch_events(pb::WatchEventsRequest::default())
                .await
                .map(drop),
        ),
        other => panic!("no call for {other}"),
    }
}

async fn role_by_rpc_matrix_matches_the_contract(backend: Backend) {
    let Some(app) = spawn(backend).await else {
        return;
    };
    let mut admin = app.admin();
    let me = create(&mut admin, person("Me", "me@example.com"))
        .await
        .name;
    let someone_else = create(&mut admin, person("Else", "else@example.com"))
        .await
        .name;
    let mut clients = [
        app.admin(),
        app.agent(),
        app.integration(),
        app.customer(&me),
    ];
    let mut cells = 0;
    for (rpc, expected) in MATRIX {
        for (column, client) in clients.iter_mut().enumerate() {
            let on_own = call(client, rpc, &me).await;
            let on_other = call(client, rpc, &someone_else).await;
            let where_ = format!("{rpc} as column {column}");
            match expected[column] {
                'Y' => {
                    assert_ne!(on_own, Code::PermissionDenied, "{where_} should be allowed");
                    assert_ne!(
                        on_other,
                        Code::PermissionDenied,
                        "{where_} should be allowed on others"
                    );
                }
                'N' => {
                    assert_eq!(on_own, Code::PermissionDenied, "{where_} should be denied");
                    assert_eq!(
                        on_other,
                        Code::PermissionDenied,
                        "{where_} should be denied"
                    );
                }
                'O' => {
                    assert_ne!(
                        on_own,
                        Code::PermissionDenied,
                        "{where_} should be allowed on the own profile"
                    );
                    assert_eq!(
                        on_other,
                        Code::PermissionDenied,
                        "{where_} should be denied on another profile"
                    );
                }
                other => panic!("bad cell {other}"),
            }
            assert_ne!(on_own, Code::Unauthenticated);
            cells += 1;
        }
    }
    assert_eq!(cells, 22 * 4, "every RPC × role cell was checked");
}

async fn a_customer_reads_and_edits_only_their_own_contact_fields(backend: Backend) {
    let Some(app) = spawn(backend).await else {
        return;
    };
    let mut admin = app.admin();
    let me = create(&mut admin, person("Me", "me@example.com")).await;
    let mut client = app.customer(&me.name);
    let own = client
        .get_customer(pb::GetCustomerRequest {
            name: me.name.clone(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(own.name, me.name);
    let phones = pb::Customer {
        name: me.name.clone(),
        phones: vec!["+44 20 7946 0000".into()],
        ..Default::default()
    };
    let updated = client
        .update_customer(pb::UpdateCustomerRequest {
            customer: Some(phones),
            update_mask: mask(&["phones"]),
            etag: String::new(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(updated.phones, vec!["+442079460000"]);
    // Tier, tags and the like are the company's to set, not the customer's.
    let promote = pb::Customer {
        name: me.name.clone(),
        tier: common::Tier::Vip as i32,
        ..Default::default()
    };
    assert_status(
        client
            .update_customer(pb::UpdateCustomerRequest {
                customer: Some(promote),
                update_mask: mask(&["tier"]),
                etag: String::new(),
            })
            .await,
        Code::InvalidArgument,
        &["update_mask"],
    );
    // So is who their dedicated agent is.
    let choose_owner = pb::Customer {
        name: me.name.clone(),
        account_owner: "agents/favourite".into(),
        ..Default::default()
    };
    assert_status(
        client
            .update_customer(pb::UpdateCustomerRequest {
                customer: Some(choose_owner),
                update_mask: mask(&["account_owner"]),
                etag: String::new(),
            })
            .await,
        Code::InvalidArgument,
        &["update_mask"],
    );
    let export = client
        .export_customer(pb::ExportCustomerRequest {
            name: me.name.clone(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(export.customer.map(|c| c.name), Some(me.name));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn request_ids_are_echoed_or_made() {
    let app = spawn(Backend::Sqlite).await.unwrap();
    let mut admin = app.admin();
    let mut request = tonic::Request::new(pb::ListCustomersRequest::default());
    request
        .metadata_mut()
        .insert("x-request-id", "trace-me-42".parse().unwrap());
    let response = admin.list_customers(request).await.unwrap();
    assert_eq!(
        response.metadata().get("x-request-id").unwrap(),
        "trace-me-42"
    );
    let response = admin
        .list_customers(pb::ListCustomersRequest::default())
        .await
        .unwrap();
    let made = response
        .metadata()
        .get("x-request-id")
        .expect("a request id is made when none is sent");
    assert_eq!(made.to_str().unwrap().len(), 36, "a UUID");
}
