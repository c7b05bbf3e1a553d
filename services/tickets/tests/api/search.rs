//! SearchTickets: ranked full-text search over subject, description and comments, English and
//! Chinese, within the caller's scope; the index follows every change and catches up on old
//! tickets.

use kefu_proto::common::v1 as common;
use kefu_proto::tickets::v1 as pb;
use kefu_testkit::{Backend, assert_status, backend_tests};
use tonic::Code;

use crate::helpers::*;

backend_tests!(search_ranks_matches_in_scope_and_follows_changes);

fn ticket(requester: &str, subject: &str, description: &str) -> pb::Ticket {
    pb::Ticket {
        description: description.into(),
        ..new_ticket(requester, subject)
    }
}

async fn search_page(
    client: &mut Client,
    query: &str,
    page_size: i32,
    page_token: &str,
) -> Result<pb::SearchTicketsResponse, tonic::Status> {
    client
        .search_tickets(pb::SearchTicketsRequest {
            query: query.into(),
            page_size,
            page_token: page_token.into(),
        })
        .await
        .map(tonic::Response::into_inner)
}

/// The subjects found for `query`, best first.
async fn found(client: &mut Client, query: &str) -> Vec<String> {
    search_page(client, query, 0, "")
        .await
        .unwrap()
        .results
        .into_iter()
        .map(|r| r.ticket.unwrap().subject)
        .collect()
}

async fn search_ranks_matches_in_scope_and_follows_changes(backend: Backend) {
    let Some(app) = spawn(backend).await else {
        return;
    };
    let customer = app
        .customer_record("Zhang Wei", common::Tier::Standard)
        .await;
    let mut admin = app.admin();
    let title = create(
        &mut admin,
        ticket(&customer, "Refund not received", "I paid twice"),
    )
    .await;
    let body = create(
        &mut admin,
        ticket(
            &customer,
            "Printer jammed",
            "Asked for a refund of the printer",
        ),
    )
    .await;
    create(
        &mut admin,
        ticket(&customer, "退货流程", "请问如何办理退货"),
    )
    .await;
    let noted = create(
        &mut admin,
        ticket(&customer, "Login issue", "Cannot sign in"),
    )
    .await;
    comment(
        &mut admin,
        &noted.name,
        "Customer wants refunds urgently",
        false,
    )
    .await
    .unwrap();

    // A subject match first, then body and comment matches (ties by id); stems match.
    assert_eq!(
        found(&mut admin, "refunds").await,
        ["Refund not received", "Printer jammed", "Login issue"]
    );
    assert_eq!(found(&mut admin, "退货").await, ["退货流程"]);
    assert!(
        found(&mut admin, "the of and").await.is_empty(),
        "stop words only"
    );
    let best = search_page(&mut admin, "refund printer", 0, "")
        .await
        .unwrap();
    assert_eq!(
        best.results[0].ticket.as_ref().unwrap().subject,
        "Printer jammed",
        "more of the query's words"
    );
    assert!(
        best.results[0].snippet.contains("<mark>"),
        "{}",
        best.results[0].snippet
    );

    // Pages follow the ranking.
    let first = search_page(&mut admin, "refund", 1, "").await.unwrap();
    assert_eq!(first.results[0].ticket.as_ref().unwrap().name, title.name);
    let second = search_page(&mut admin, "refund", 1, &first.next_page_token)
        .await
        .unwrap();
    assert_eq!(second.results[0].ticket.as_ref().unwrap().name, body.name);
    assert_status(
        search_page(&mut admin, "printer", 1, &first.next_page_token).await,
        Code::InvalidArgument,
        &["page_token"],
    );

    // The caller's scope; staff and integrations only; a query is required.
    agent(&mut admin, "a1", &[]).await;
    set_scope(&mut admin, "a1", pb::TicketScope::Assigned).await;
    assign(&mut admin, &body.name, "agents/a1", "")
        .await
        .unwrap();
    assert_eq!(
        found(&mut app.agent("a1"), "refund").await,
        ["Printer jammed"]
    );
    assert_eq!(found(&mut app.integration(), "refund").await.len(), 3);
    assert_status(
        search_page(&mut app.customer(&customer), "refund", 0, "").await,
        Code::PermissionDenied,
        &[],
    );
    assert_status(
        search_page(&mut admin, "  ", 0, "").await,
        Code::InvalidArgument,
        &["query"],
    );

    // The index follows a changed subject in the same transaction.
    admin
        .update_ticket(pb::UpdateTicketRequest {
            ticket: Some(pb::Ticket {
                name: title.name.clone(),
                subject: "Payment missing".into(),
                ..Default::default()
            }),
            update_mask: mask(&["subject"]),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(
        found(&mut admin, "refund").await,
        ["Printer jammed", "Login issue"]
    );
    assert_eq!(found(&mut admin, "payment").await, ["Payment missing"]);

    // Tickets written before the index existed are indexed by the sweep.
    let db = app.db().await;
    let mut tx = db.begin_write().await.unwrap();
    sqlx::query("DELETE FROM ticket_terms")
        .execute(&mut *tx)
        .await
        .unwrap();
    sqlx::query("UPDATE tickets SET search_indexed = 0")
        .execute(&mut *tx)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    assert!(found(&mut admin, "refund").await.is_empty());
    assert_eq!(app.ops().await.index_backlog().await.unwrap(), 4);
    assert_eq!(app.ops().await.index_backlog().await.unwrap(), 0);
    assert_eq!(
        found(&mut admin, "refund").await,
        ["Printer jammed", "Login issue"]
    );
}
