//! Who a call is: API keys, JWTs and the key store, and the principal the services receive.

use std::time::Duration;

use kefu_gateway::Config;
use kefu_principal::{InternalKey, PRINCIPAL_HEADER, Principal, Role};
use kefu_proto::customers::v1 as cpb;
use kefu_testkit::{Backend, assert_status};
use tonic::Code;

use crate::helpers::*;
use crate::support::{gateway, with_bearer};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn api_keys_authenticate_and_client_principals_are_replaced() {
    let key = InternalKey::generate();
    let backend = customers(&key).await;
    let gw = gateway(&key, upstream(&backend), |_| {}).await;
    let mut client = Customers::new(gw.channel().await);
    let admin_key = gw.key(&Principal::new("ops", Role::Admin)).await;
    let created = create_customer(&mut client, &admin_key, "Through the gateway").await;
    assert_eq!(created.display_name, "Through the gateway");

    // No credentials, a wrong key, garbage: UNAUTHENTICATED.
    assert_status(
        client
            .list_customers(cpb::ListCustomersRequest::default())
            .await,
        Code::Unauthenticated,
        &[],
    );
    for token in [
        "kefu_00000000000000000000000000000000_nope",
        "not-a-jwt",
        &format!("{admin_key}x"),
    ] {
        assert_status(
            list_as(&mut client, token).await,
            Code::Unauthenticated,
            &[],
        );
    }
    // A customer key with a smuggled admin principal acts as the customer only.
    let customer_id = created.name.trim_start_matches("customers/").to_owned();
    let customer_key = gw.key(&Principal::customer(&customer_id)).await;
    let mut smuggled = with_bearer(cpb::ListCustomersRequest::default(), &customer_key);
    let forged = key.sign(
        &Principal::new("root", Role::Admin),
        Duration::from_secs(60),
    );
    smuggled
        .metadata_mut()
        .insert(PRINCIPAL_HEADER, forged.parse().unwrap());
    assert_status(
        client.list_customers(smuggled).await,
        Code::PermissionDenied,
        &[],
    );
    let own = client
        .get_customer(with_bearer(
            cpb::GetCustomerRequest {
                name: created.name.clone(),
            },
            &customer_key,
        ))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(own.name, created.name);
    // Revoked keys stop working at once on the gateway that revoked them (others within 5 s).
    let id = customer_key.split('_').nth(1).unwrap();
    assert!(gw.keys.revoke(id).await.unwrap());
    assert_status(
        client
            .get_customer(with_bearer(
                cpb::GetCustomerRequest { name: created.name },
                &customer_key,
            ))
            .await,
        Code::Unauthenticated,
        &[],
    );
    // Unknown services are UNIMPLEMENTED, known-but-unconfigured ones too.
    let mut tickets = kefu_proto::tickets::v1::ticket_service_client::TicketServiceClient::new(
        gw.channel().await,
    );
    assert_status(
        tickets
            .list_tickets(with_bearer(
                kefu_proto::tickets::v1::ListTicketsRequest::default(),
                &admin_key,
            ))
            .await,
        Code::Unimplemented,
        &[],
    );
}

fn unix_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn jwts_reach_the_services_as_the_principal_they_name() {
    use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, encode};
    const SECRET: &[u8] = b"gateway-test-hs256-secret";
    let private_pem = include_bytes!("../fixtures/rs256-test-private.pem");
    let public_pem = include_bytes!("../fixtures/rs256-test-public.pem");
    let key = InternalKey::generate();
    let backend = customers(&key).await;
    let gw = gateway(&key, upstream(&backend), |config| {
        config.jwt = Some(kefu_gateway::auth::JwtConfig {
            hs256: Some(DecodingKey::from_secret(SECRET)),
            rs256: Some(DecodingKey::from_rsa_pem(public_pem).unwrap()),
            issuer: "https://login.example.com".into(),
            audience: "kefu".into(),
        });
    })
    .await;
    let mut client = Customers::new(gw.channel().await);
    let admin_key = gw.key(&Principal::new("ops", Role::Admin)).await;
    let mut names = Vec::new();
    for display_name in ["Mei", "Jun"] {
        let created = create_customer(&mut client, &admin_key, display_name).await;
        names.push(created.name);
    }
    let mei_id = names[0].trim_start_matches("customers/").to_owned();
    let claims = |role: &str, aud: &str, exp: u64, customer_id: Option<&str>| {
        let mut claims = serde_json::json!({
            "sub": "user-7",
            "role": role,
            "iss": "https://login.example.com",
            "aud": aud,
            "exp": exp,
        });
        if let Some(customer_id) = customer_id {
            claims["customer_id"] = customer_id.into();
        }
        claims
    };
    let hs256 = |c: &serde_json::Value| {
        encode(
            &Header::new(Algorithm::HS256),
            c,
            &EncodingKey::from_secret(SECRET),
        )
        .unwrap()
    };
    let rs256 = |c: &serde_json::Value| {
        encode(
            &Header::new(Algorithm::RS256),
            c,
            &EncodingKey::from_rsa_pem(private_pem).unwrap(),
        )
        .unwrap()
    };
    let in_an_hour = unix_now() + 3600;

    // An HS256 agent token lists every customer.
    let agent = hs256(&claims("AGENT", "kefu", in_an_hour, None));
    let listed = list_as(&mut client, &agent).await.unwrap().into_inner();
    assert_eq!(listed.customers.len(), 2);

    // An RS256 customer token acts as that customer only: its own record, nobody else's, no list.
    let mei = rs256(&claims("CUSTOMER", "kefu", in_an_hour, Some(&mei_id)));
    let own = client
        .get_customer(with_bearer(
            cpb::GetCustomerRequest {
                name: names[0].clone(),
            },
            &mei,
        ))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(own.display_name, "Mei");
    let other = client
        .get_customer(with_bearer(
            cpb::GetCustomerRequest {
                name: names[1].clone(),
            },
            &mei,
        ))
        .await;
    assert!(
        matches!(
            other.as_ref().map_err(tonic::Status::code),
            Err(Code::PermissionDenied | Code::NotFound)
        ),
        "{other:?}"
    );
    assert_status(
        list_as(&mut client, &mei).await,
        Code::PermissionDenied,
        &[],
    );

    // Expired, for another audience, or signed with the wrong key: UNAUTHENTICATED at the gateway.
    let expired = hs256(&claims("ADMIN", "kefu", unix_now() - 3600, None));
    let elsewhere = rs256(&claims("ADMIN", "another-api", in_an_hour, None));
    let forged = encode(
        &Header::new(Algorithm::HS256),
        &claims("ADMIN", "kefu", in_an_hour, None),
        &EncodingKey::from_secret(b"guessed"),
    )
    .unwrap();
    for token in [expired, elsewhere, forged] {
        assert_status(
            list_as(&mut client, &token).await,
            Code::Unauthenticated,
            &[],
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn api_keys_in_a_postgresql_key_store_work_from_every_worker_thread() {
    let Some(store) = kefu_testkit::TestDatabase::create(Backend::Postgres)
        .await
        .unwrap()
    else {
        return;
    };
    let key = InternalKey::generate();
    let backend = customers(&key).await;
    let mut config = Config::new(store.url.clone(), key.clone(), upstream(&backend));
    config.worker_threads = 2;
    let prepared = kefu_gateway::prepare(config).await.unwrap();
    let keys = prepared.keys();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let served = tokio::spawn(prepared.serve(listener, async move {
        let _ = stopped.await;
    }));
    let connect = || async {
        tonic::transport::Endpoint::from_shared(format!("http://{addr}"))
            .unwrap()
            .connect()
            .await
            .unwrap()
    };
    // Two connections, one per worker thread; each worker's first call misses the key cache and
    // looks the key up in PostgreSQL.
    let (mut first, mut second) = (
        Customers::new(connect().await),
        Customers::new(connect().await),
    );
    let admin_key = keys
        .create("test", &Principal::new("ops", Role::Admin))
        .await
        .unwrap()
        .0;
    let agent_key = keys
        .create("test", &Principal::new("agent-1", Role::Agent))
        .await
        .unwrap()
        .0;
    let created = create_customer(&mut first, &admin_key, "Stored in PostgreSQL keys").await;
    for client in [&mut first, &mut second] {
        for token in [&admin_key, &agent_key] {
            let got = client
                .get_customer(with_bearer(
                    cpb::GetCustomerRequest {
                        name: created.name.clone(),
                    },
                    token,
                ))
                .await
                .unwrap()
                .into_inner();
            assert_eq!(got.display_name, "Stored in PostgreSQL keys");
        }
        assert_status(
            list_as(client, "kefu_00000000000000000000000000000000_nope").await,
            Code::Unauthenticated,
            &[],
        );
    }
    let id = agent_key.split('_').nth(1).unwrap();
    assert!(keys.revoke(id).await.unwrap());
    assert_status(
        list_as(&mut second, &agent_key).await,
        Code::Unauthenticated,
        &[],
    );
    // The gateway stops cleanly, its key store's connections closed by the runtime that owns them.
    let _ = stop.send(());
    tokio::time::timeout(Duration::from_secs(10), served)
        .await
        .expect("the gateway stops")
        .unwrap()
        .unwrap();
    drop(store);
}
