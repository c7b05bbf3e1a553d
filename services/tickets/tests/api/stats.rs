use kefu_proto::tickets::v1 as pb;
use kefu_server::common::Channel;
use kefu_testkit::{Backend, backend_tests};
use kefu_tickets::domain::kinds::{Priority, TicketStatus, TicketType};
use kefu_tickets::domain::sla::SlaRecord;
use kefu_tickets::domain::ticket::{TicketFields, TicketRecord};
use kefu_tickets::store;
use tonic::Code;

use crate::helpers::*;

backend_tests!(
    stats_match_hand_computed_figures,
    stats_follow_the_real_flow_and_check_their_input
);

const SECOND: i64 = 1_000_000;
/// 2026-01-05 00:00 UTC, a Monday; the period is one week from here.
const START: i64 = 1_767_571_200 * SECOND;
const END: i64 = START + 7 * 24 * 3600 * SECOND;

struct Row<'a> {
    id: &'a str,
    agent: &'a str,
    channel: Channel,
    status: TicketStatus,
    created: i64,
    first_response: Option<i64>,
    solved: Option<i64>,
    resolution: Option<i64>,
    policy: bool,
    breached: bool,
}

fn record(row: &Row<'_>) -> TicketRecord {
    let mut sla = SlaRecord {
        policy_id: row.policy.then(|| "p".to_owned()),
        ..SlaRecord::default()
    };
    sla.resolution.breached = row.breached;
    TicketRecord {
        id: row.id.to_owned(),
        fields: TicketFields {
            subject: row.id.to_owned(),
            priority: Priority::Normal,
            ticket_type: TicketType::Question,
            ..TicketFields::default()
        },
        requester_id: "c1".into(),
        requester_name: "C".into(),
        requester_tier: kefu_server::common::Tier::Standard,
        requester_locale: String::new(),
        requester_erased: false,
        organization_id: None,
        assignee_id: Some(row.agent.to_owned()),
        group_id: None,
        status: row.status,
        channel: row.channel,
        sla,
        first_response_seconds: row.first_response,
        resolution_seconds: row.resolution,
        reopen_count: 0,
        agent_replies: 0,
        create_time: row.created,
        update_time: row.created,
        solve_time: row.solved,
        close_time: None,
        version: 1,
        follow_up_of: None,
        merged_into: None,
        followers: Vec::new(),
    }
}

async fn stats(
    client: &mut Client,
    group_by: pb::StatsDimension,
    start: i64,
    end: i64,
) -> Vec<pb::TicketStatsRow> {
    let ts = |t: i64| prost_types::Timestamp {
        seconds: t / SECOND,
        nanos: 0,
    };
    client
        .get_ticket_stats(pb::GetTicketStatsRequest {
            start_time: Some(ts(start)),
            end_time: Some(ts(end)),
            group_by: group_by as i32,
        })
        .await
        .unwrap()
        .into_inner()
        .rows
}

async fn stats_match_hand_computed_figures(backend: Backend) {
    let Some(app) = spawn(backend).await else {
        return;
    };
    let mut admin = app.admin();
    agent(&mut admin, "a1", &[]).await;
    agent(&mut admin, "a2", &[]).await;
    use Channel::{Email, Phone};
    use TicketStatus::{New, Open, Solved};
    let hour = 3600 * SECOND;
    let rows = [
        Row {
            id: "t1",
            agent: "a1",
            channel: Email,
            status: Solved,
            created: START + hour,
            first_response: Some(60),
            solved: Some(START + 2 * hour),
            resolution: Some(600),
            policy: true,
            breached: false,
        },
        Row {
            id: "t2",
            agent: "a1",
            channel: Email,
            status: Solved,
            created: START + hour,
            first_response: Some(120),
            solved: Some(START + 9 * hour),
            resolution: Some(1200),
            policy: true,
            breached: true,
        },
        Row {
            id: "t3",
            agent: "a1",
            channel: Email,
            status: Open,
            created: START + 3 * hour,
            first_response: Some(300),
            solved: None,
            resolution: None,
            policy: true,
            breached: false,
        },
        Row {
            id: "t4",
            agent: "a1",
            channel: Email,
            status: Solved,
            created: START + 4 * hour,
            first_response: Some(600),
            solved: Some(START + 30 * hour),
            resolution: Some(3000),
            policy: true,
            breached: false,
        },
        Row {
            id: "t5",
            agent: "a1",
            channel: Email,
            status: Solved,
            created: START - 48 * hour,
            first_response: None,
            solved: Some(START + 5 * hour),
            resolution: Some(5000),
            policy: false,
            breached: false,
        },
        Row {
            id: "t6",
            agent: "a2",
            channel: Phone,
            status: New,
            created: START + 6 * hour,
            first_response: None,
            solved: None,
            resolution: None,
            policy: false,
            breached: false,
        },
        // Outside the period on both sides.
        Row {
            id: "t7",
            agent: "a2",
            channel: Phone,
            status: Solved,
            created: END + hour,
            first_response: Some(9),
            solved: Some(END + 2 * hour),
            resolution: Some(9),
            policy: true,
            breached: true,
        },
    ];
    let db = app.db().await;
    let mut conn = db.pool().acquire().await.unwrap();
    for row in &rows {
        store::insert_ticket(&mut conn, &record(row)).await.unwrap();
    }
    // Solves (and t2's reopen) as the service records them: t5 was also solved once before the period.
    let changes = [
        ("t1", Open, Solved, START + 2 * hour),
        ("t2", Open, Solved, START + 5 * hour),
        ("t2", Solved, Open, START + 6 * hour),
        ("t2", Open, Solved, START + 9 * hour),
        ("t4", Open, Solved, START + 30 * hour),
        ("t5", Open, Solved, START - hour),
        ("t5", Open, Solved, START + 5 * hour),
        ("t7", Open, Solved, END + 2 * hour),
    ];
    for (i, (id, from, to, at)) in changes.iter().enumerate() {
        let mut t = record(rows.iter().find(|r| r.id == *id).unwrap());
        t.status = *to;
        store::insert_status_change(&mut conn, &format!("sc{i}"), &t, *from, *at)
            .await
            .unwrap();
    }
    drop(conn);

    let all = stats(&mut admin, pb::StatsDimension::Unspecified, START, END).await;
    assert_eq!(all.len(), 1);
    let whole = &all[0];
    assert_eq!(whole.key, "");
    assert_eq!(
        (whole.created, whole.solved, whole.reopened, whole.backlog),
        (5, 5, 1, 2)
    );
    // First responses of tickets created in the period: 60, 120, 300, 600 → median rank 2, p90 rank 4.
    assert_eq!(
        (
            whole.first_response_median_seconds,
            whole.first_response_p90_seconds
        ),
        (120, 600)
    );
    // Resolutions of tickets solved in the period: 600, 1200, 3000, 5000.
    assert_eq!(
        (
            whole.resolution_median_seconds,
            whole.resolution_p90_seconds
        ),
        (1200, 5000)
    );
    // Under a policy and solved in the period: t1, t2 (breached), t4.
    assert_eq!(whole.sla_measured, 3);
    assert!((whole.sla_compliance_percent - 200.0 / 3.0).abs() < 1e-9);

    let by_agent = stats(&mut admin, pb::StatsDimension::Agent, START, END).await;
    let keys: Vec<&str> = by_agent.iter().map(|r| r.key.as_str()).collect();
    assert_eq!(keys, vec!["agents/a1", "agents/a2"]);
    let (a1, a2) = (&by_agent[0], &by_agent[1]);
    assert_eq!(
        (a1.created, a1.solved, a1.reopened, a1.backlog),
        (4, 5, 1, 1)
    );
    assert_eq!(
        (a2.created, a2.solved, a2.reopened, a2.backlog),
        (1, 0, 0, 1)
    );
    assert_eq!((a2.first_response_median_seconds, a2.sla_measured), (0, 0));
    assert_eq!(a2.sla_compliance_percent, 0.0);

    let by_channel = stats(&mut admin, pb::StatsDimension::Channel, START, END).await;
    let keys: Vec<&str> = by_channel.iter().map(|r| r.key.as_str()).collect();
    assert_eq!(keys, vec!["CHANNEL_EMAIL", "CHANNEL_PHONE"]);
    assert_eq!(by_channel[0].resolution_p90_seconds, 5000);

    // A period with only t7 in it.
    let later = stats(
        &mut admin,
        pb::StatsDimension::Unspecified,
        END,
        END + 24 * hour,
    )
    .await;
    assert_eq!((later[0].created, later[0].solved), (1, 1));
    assert_eq!(later[0].sla_compliance_percent, 0.0);
}

async fn stats_follow_the_real_flow_and_check_their_input(backend: Backend) {
    let Some(app) = spawn(backend).await else {
        return;
    };
    let customer = app
        .customer_record("Stats", kefu_proto::common::v1::Tier::Standard)
        .await;
    let mut admin = app.admin();
    let team = group(&mut admin, "Team").await;
    agent(&mut admin, "agent-s", &[&team]).await;
    let started = app.now();
    let ticket = create(&mut admin, new_ticket(&customer, "Counted")).await;
    assign(&mut admin, &ticket.name, "agents/agent-s", &team.name)
        .await
        .unwrap();
    let solve = pb::SolveTicketRequest {
        request_id: String::new(),
        name: ticket.name.clone(),
        etag: String::new(),
    };
    admin.solve_ticket(solve.clone()).await.unwrap();
    comment(
        &mut app.customer(&customer),
        &ticket.name,
        "not fixed",
        true,
    )
    .await
    .unwrap();
    admin.solve_ticket(solve).await.unwrap();
    let rows = stats(
        &mut admin,
        pb::StatsDimension::Group,
        started - SECOND,
        app.now() + 60 * SECOND,
    )
    .await;
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].key, team.name);
    assert_eq!(
        (
            rows[0].created,
            rows[0].solved,
            rows[0].reopened,
            rows[0].backlog
        ),
        (1, 2, 1, 0)
    );
    // Customers do not read team statistics; a bad period is refused.
    assert_status(
        app.customer(&customer)
            .get_ticket_stats(pb::GetTicketStatsRequest::default())
            .await,
        Code::PermissionDenied,
        &[],
    );
    assert_status(
        admin
            .get_ticket_stats(pb::GetTicketStatsRequest::default())
            .await,
        Code::InvalidArgument,
        &["start_time"],
    );
    let t = |s: i64| {
        Some(prost_types::Timestamp {
            seconds: s,
            nanos: 0,
        })
    };
    assert_status(
        admin
            .get_ticket_stats(pb::GetTicketStatsRequest {
                start_time: t(2000),
                end_time: t(1000),
                group_by: 99,
            })
            .await,
        Code::InvalidArgument,
        &["end_time", "group_by"],
    );
    assert_status(
        admin
            .get_ticket_stats(pb::GetTicketStatsRequest {
                start_time: t(0),
                end_time: t(400 * 24 * 3600),
                group_by: 0,
            })
            .await,
        Code::InvalidArgument,
        &["end_time"],
    );
}
