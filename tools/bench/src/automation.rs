//! `kefu-bench automation`: how long a ticket waits for its triggers — from the ticket's event
//! committing in the tickets service to the firing's last action applied — at a steady rate of
//! ticket writes with many active triggers.
//!
//! Customers, tickets and automation run on loopback ports on the chosen database. `triggers`
//! triggers listen to new tickets: five fire on every ticket (a tag, a priority, a public
//! reply from a template, a second tag, a category), the rest test conditions that do
//! not hold (a tier, a word, a tag), so every event is evaluated against all of them. Tickets are
//! created at `rate` per second for `seconds`; afterwards each firing's latency is its finish time
//! (`Firing.update_time`) minus its ticket's `create_time`, both from the services' clocks on
//! this machine.

use std::collections::HashMap;
use std::time::Duration;

use kefu_principal::{InternalKey, Principal, Role};
use kefu_proto::automation::v1 as apb;
use kefu_proto::common::v1 as common;
use kefu_proto::customers::v1 as cpb;
use kefu_proto::tickets::v1 as tpb;
use kefu_server::time::micros_of;
use kefu_testkit::{Backend, TestServer};

use crate::percentile;

type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// Triggers that fire on every ticket.
const FIRING: usize = 5;

fn action(action: apb::action::Action) -> apb::Action {
    apb::Action {
        action: Some(action),
    }
}

fn condition(field: &str, operator: apb::Operator, value: &str) -> apb::Condition {
    apb::Condition {
        field: field.into(),
        operator: operator as i32,
        value: value.into(),
    }
}

/// The `i`th trigger: one of the five that fire, or one whose conditions do not hold.
fn trigger(i: usize) -> apb::Trigger {
    use apb::action::Action as A;
    let tag = |t: String| A::AddTags(apb::Tags { tags: vec![t] });
    let (all, actions) = match i {
        0 => (vec![], vec![action(tag("seen".into()))]),
        1 => (
            vec![condition("channel", apb::Operator::Is, "WEB")],
            vec![action(A::SetField(apb::SetField {
                field: "priority".into(),
                value: "HIGH".into(),
            }))],
        ),
        2 => (
            vec![condition("text", apb::Operator::Contains, "order")],
            vec![action(A::Reply(apb::Reply {
                body: "Hello {{ requester.name }}, we received ticket {{ ticket.id }}.".into(),
                public: true,
            }))],
        ),
        3 => (
            vec![condition("requester.tier", apb::Operator::Is, "STANDARD")],
            vec![action(tag("standard".into()))],
        ),
        4 => (
            vec![condition("tags", apb::Operator::NotIncludes, "vip")],
            vec![action(A::SetField(apb::SetField {
                field: "category".into(),
                value: "orders/late".into(),
            }))],
        ),
        n => (
            vec![
                condition("requester.tier", apb::Operator::Is, "VIP"),
                condition("text", apb::Operator::Contains, &format!("refund{n}")),
            ],
            vec![action(tag(format!("never-{n}")))],
        ),
    };
    apb::Trigger {
        display_name: format!("Trigger {i}"),
        active: true,
        position: i32::try_from(i).unwrap_or(i32::MAX),
        events: vec![apb::TriggerEvent::TicketCreated as i32],
        all_conditions: all,
        actions,
        ..Default::default()
    }
}

/// Runs the measurement and prints the figures.
pub(crate) async fn run(
    backend: Backend,
    triggers: usize,
    rate: u32,
    seconds: u64,
) -> Result<(), BoxError> {
    let key = InternalKey::generate();
    let customers = TestServer::service::<kefu_customers::Customers>(backend, &key, ())
        .await?
        .ok_or("no database: set KEFU_TEST_POSTGRES_URL for postgres")?;
    let mut tickets_settings = kefu_tickets::Settings::new(format!("http://{}", customers.addr));
    tickets_settings.sweep_interval = Duration::from_secs(3600);
    let tickets = TestServer::service::<kefu_tickets::Tickets>(backend, &key, tickets_settings)
        .await?
        .ok_or("no database")?;
    let automation = TestServer::service::<kefu_automation::AutomationService>(
        backend,
        &key,
        kefu_automation::Settings::new(
            format!("http://{}", tickets.addr),
            format!("http://{}", customers.addr),
        ),
    )
    .await?
    .ok_or("no database")?;
    let admin = Principal::new("bench", Role::Admin);
    let mut customers_client =
        cpb::customer_service_client::CustomerServiceClient::with_interceptor(
            customers.channel(),
            customers.as_principal(&admin),
        );
    let tickets_client = tpb::ticket_service_client::TicketServiceClient::with_interceptor(
        tickets.channel(),
        tickets.as_principal(&admin),
    );
    let mut automation_client =
        apb::automation_service_client::AutomationServiceClient::with_interceptor(
            automation.channel(),
            automation.as_principal(&admin),
        );
    let requester = customers_client
        .create_customer(cpb::CreateCustomerRequest {
            customer: Some(cpb::Customer {
                display_name: "Bench Customer".into(),
                tier: common::Tier::Standard as i32,
                ..Default::default()
            }),
            request_id: String::new(),
        })
        .await?
        .into_inner()
        .name;
    for i in 0..triggers {
        automation_client
            .create_trigger(apb::CreateTriggerRequest {
                trigger: Some(trigger(i)),
                request_id: String::new(),
            })
            .await?;
    }
    let count = usize::try_from(u64::from(rate) * seconds)?;
    let mut created: HashMap<String, i64> = HashMap::new();
    let mut ticks = tokio::time::interval(Duration::from_secs(1) / rate.max(1));
    let mut writes = Vec::with_capacity(count);
    for i in 0..count {
        ticks.tick().await;
        let mut client = tickets_client.clone();
        let requester = requester.clone();
        writes.push(tokio::spawn(async move {
            client
                .create_ticket(tpb::CreateTicketRequest {
                    ticket: Some(tpb::Ticket {
                        subject: format!("Where is my order {i}?"),
                        description: "It was due yesterday.".into(),
                        requester,
                        channel: common::Channel::Web as i32,
                        ..Default::default()
                    }),
                    request_id: String::new(),
                })
                .await
                .map(tonic::Response::into_inner)
        }));
    }
    for write in writes {
        let ticket = write.await??;
        let time = ticket.create_time.as_ref().and_then(micros_of).unwrap_or(0);
        created.insert(ticket.name, time);
    }
    let expected = count * FIRING.min(triggers);
    let firings = settled_firings(&mut automation_client, expected).await?;
    let mut latencies: Vec<Duration> = Vec::with_capacity(firings.len());
    let mut not_applied = 0;
    for firing in &firings {
        if firing.state != apb::FiringState::Applied as i32 {
            not_applied += 1;
            continue;
        }
        let done = firing.update_time.as_ref().and_then(micros_of).unwrap_or(0);
        if let Some(start) = created.get(&firing.ticket) {
            latencies.push(Duration::from_micros(
                u64::try_from(done - start).unwrap_or(0),
            ));
        }
    }
    latencies.sort();
    if latencies.is_empty() {
        return Err("no firing was applied".into());
    }
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    println!(
        "automation | {backend:?} | {triggers} active triggers ({} fire per ticket) | {count} tickets at {rate}/s | {} firings applied, {not_applied} not | event → last action applied: p50 {:.1} ms | p99 {:.1} ms | max {:.1} ms",
        FIRING.min(triggers),
        latencies.len(),
        ms(percentile(&latencies, 0.50)),
        ms(percentile(&latencies, 0.99)),
        ms(latencies[latencies.len() - 1]),
    );
    Ok(())
}

type AutomationClient = apb::automation_service_client::AutomationServiceClient<
    tonic::codegen::InterceptedService<tonic::transport::Channel, kefu_testkit::CallAs>,
>;

/// Every firing, once `expected` of them exist and none is pending (up to two minutes).
async fn settled_firings(
    client: &mut AutomationClient,
    expected: usize,
) -> Result<Vec<apb::Firing>, BoxError> {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(120);
    let mut ticks = tokio::time::interval(Duration::from_millis(500));
    loop {
        ticks.tick().await;
        let mut firings = Vec::new();
        let mut page_token = String::new();
        loop {
            let page = client
                .list_firings(apb::ListFiringsRequest {
                    parent: "triggers/-".into(),
                    page_size: 1000,
                    page_token: page_token.clone(),
                    ..Default::default()
                })
                .await?
                .into_inner();
            firings.extend(page.firings);
            if page.next_page_token.is_empty() {
                break;
            }
            page_token = page.next_page_token;
        }
        let pending = firings
            .iter()
            .any(|f| f.state == apb::FiringState::Pending as i32);
        if firings.len() >= expected && !pending {
            return Ok(firings);
        }
        if tokio::time::Instant::now() >= deadline {
            return Err(format!(
                "{} of {expected} firings settled in 2 minutes",
                firings.len()
            )
            .into());
        }
    }
}
