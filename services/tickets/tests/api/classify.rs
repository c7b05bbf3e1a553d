//! Classification: urgency × impact gives the priority through the admin's matrix; a priority
//! set by hand wins, and the audit trail says which.

use kefu_proto::common::v1 as common;
use kefu_proto::tickets::v1 as pb;
use kefu_testkit::{Backend, assert_status, backend_tests};
use pb::Level::{High, Low, Medium};
use pb::TicketPriority as P;
use tonic::Code;

use crate::helpers::*;

backend_tests!(
    urgency_and_impact_give_the_priority_unless_set_by_hand,
    the_matrix_is_replaced_whole_or_not_at_all
);

fn classified(requester: &str, urgency: pb::Level, impact: pb::Level) -> pb::Ticket {
    pb::Ticket {
        urgency: urgency as i32,
        impact: impact as i32,
        ..new_ticket(requester, "Checkout down")
    }
}

async fn update(client: &mut Client, ticket: pb::Ticket, paths: &[&str]) -> pb::Ticket {
    client
        .update_ticket(pb::UpdateTicketRequest {
            request_id: String::new(),
            ticket: Some(ticket),
            update_mask: mask(paths),
            etag: String::new(),
        })
        .await
        .unwrap()
        .into_inner()
}

fn priority(t: &pb::Ticket) -> (i32, i32) {
    (t.priority, t.priority_source)
}

const MATRIX: i32 = pb::PrioritySource::Matrix as i32;
const MANUAL: i32 = pb::PrioritySource::Manual as i32;

async fn urgency_and_impact_give_the_priority_unless_set_by_hand(backend: Backend) {
    let Some(app) = spawn(backend).await else {
        return;
    };
    let customer = app.customer_record("Ann", common::Tier::Standard).await;
    let mut admin = app.admin();
    let t = create(&mut admin, classified(&customer, High, High)).await;
    assert_eq!(priority(&t), (P::Urgent as i32, MATRIX));
    let plain = create(&mut admin, new_ticket(&customer, "Question")).await;
    assert_eq!(
        priority(&plain),
        (P::Normal as i32, pb::PrioritySource::Default as i32)
    );
    let by_hand = pb::Ticket {
        priority: P::Low as i32,
        ..classified(&customer, High, High)
    };
    let by_hand = create(&mut admin, by_hand).await;
    assert_eq!(priority(&by_hand), (P::Low as i32, MANUAL));

    // Lower urgency: the matrix speaks again.
    let lowered = pb::Ticket {
        name: t.name.clone(),
        urgency: Low as i32,
        ..Default::default()
    };
    let t = update(&mut admin, lowered, &["urgency"]).await;
    assert_eq!(priority(&t), (P::Normal as i32, MATRIX));
    // An agent overrides it; a later change of impact leaves the override alone.
    let mut agent_client = app.agent("a1");
    agent(&mut admin, "a1", &[]).await;
    let overridden = pb::Ticket {
        name: t.name.clone(),
        priority: P::High as i32,
        ..Default::default()
    };
    let t = update(&mut agent_client, overridden, &["priority"]).await;
    assert_eq!(priority(&t), (P::High as i32, MANUAL));
    let impact = pb::Ticket {
        name: t.name.clone(),
        impact: Medium as i32,
        ..Default::default()
    };
    let t = update(&mut admin, impact, &["impact"]).await;
    assert_eq!(priority(&t), (P::High as i32, MANUAL));
    // Sending the priority unset hands it back to the matrix: low × medium.
    let cleared = pb::Ticket {
        name: t.name.clone(),
        ..Default::default()
    };
    let t = update(&mut admin, cleared, &["priority"]).await;
    assert_eq!(priority(&t), (P::Low as i32, MATRIX));

    let sources: Vec<String> = audited(&mut admin, &t.name, "priority_source")
        .await
        .into_iter()
        .map(|(_, value)| value)
        .collect();
    assert_eq!(
        sources,
        [
            "PRIORITY_SOURCE_MATRIX",
            "PRIORITY_SOURCE_MANUAL",
            "PRIORITY_SOURCE_MATRIX"
        ]
    );

    let bad = pb::Ticket {
        urgency: 7,
        impact: -1,
        ..new_ticket(&customer, "Bad")
    };
    let refused = admin
        .create_ticket(pb::CreateTicketRequest {
            ticket: Some(bad),
            request_id: String::new(),
        })
        .await;
    assert_status(
        refused,
        Code::InvalidArgument,
        &["ticket.urgency", "ticket.impact"],
    );
}

fn cells(matrix: &pb::PriorityMatrix) -> Vec<pb::PriorityCell> {
    matrix.cells.clone()
}

async fn the_matrix_is_replaced_whole_or_not_at_all(backend: Backend) {
    let Some(app) = spawn(backend).await else {
        return;
    };
    let customer = app.customer_record("Bo", common::Tier::Standard).await;
    let mut admin = app.admin();
    let start = admin
        .get_priority_matrix(pb::GetPriorityMatrixRequest {})
        .await
        .unwrap()
        .into_inner();
    assert_eq!(start.cells.len(), 9);
    let replace = |cells: Vec<pb::PriorityCell>| pb::UpdatePriorityMatrixRequest {
        matrix: Some(pb::PriorityMatrix { cells }),
    };

    // Gaps, repeats and bad values are refused, naming the cell; an agent may not change it.
    let mut gap = cells(&start);
    gap.pop();
    let refused = admin.update_priority_matrix(replace(gap)).await;
    assert_status(refused, Code::InvalidArgument, &["matrix.cells"]);
    let mut repeat = cells(&start);
    repeat.push(repeat[0]);
    let refused = admin.update_priority_matrix(replace(repeat)).await;
    assert_status(refused, Code::InvalidArgument, &["matrix.cells[9]"]);
    let mut bad = cells(&start);
    bad[0].urgency = 0;
    bad[1].priority = 9;
    let refused = admin.update_priority_matrix(replace(bad)).await;
    assert_status(
        refused,
        Code::InvalidArgument,
        &["matrix.cells[0].urgency", "matrix.cells[1].priority"],
    );
    let refused = app
        .agent("a1")
        .update_priority_matrix(replace(cells(&start)))
        .await;
    assert_status(refused, Code::PermissionDenied, &[]);
    let unchanged = admin
        .get_priority_matrix(pb::GetPriorityMatrixRequest {})
        .await
        .unwrap()
        .into_inner();
    assert_eq!(unchanged, start);

    // Low urgency with high impact becomes HIGH for new tickets.
    let mut stricter = cells(&start);
    for cell in &mut stricter {
        if cell.urgency == Low as i32 && cell.impact == High as i32 {
            cell.priority = P::High as i32;
        }
    }
    let updated = admin
        .update_priority_matrix(replace(stricter.clone()))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(updated.cells, stricter);
    let t = create(&mut admin, classified(&customer, Low, High)).await;
    assert_eq!(priority(&t), (P::High as i32, MATRIX));
}
