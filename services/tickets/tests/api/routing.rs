//! Routing: a routed group gives new tickets to its members in turn or by load, within their
//! capacity and availability, queues what finds no room, and hands the queue out as room frees.

use std::collections::BTreeMap;

use kefu_proto::common::v1 as common;
use kefu_proto::tickets::v1 as pb;
use kefu_testkit::{Backend, backend_tests};
use tokio::task::JoinHandle;
use tonic::Code;

use crate::helpers::*;

backend_tests!(
    round_robin_takes_turns_and_least_loaded_evens_out,
    full_or_unavailable_agents_leave_tickets_queued_until_room_frees,
    availability_and_group_updates_check_who_and_what,
    concurrent_tickets_never_exceed_capacity,
    overlapping_groups_route_concurrently_without_deadlock
);

/// Starts creating every ticket at once, each through its own connection.
fn creating(app: &App, tickets: Vec<pb::Ticket>) -> Vec<JoinHandle<pb::Ticket>> {
    tickets
        .into_iter()
        .map(|ticket| {
            let mut client = app.admin();
            tokio::spawn(async move { create(&mut client, ticket).await })
        })
        .collect()
}

/// Starts solving every assigned one of `tickets` at once, each through its own connection.
fn solving(app: &App, tickets: &[pb::Ticket]) -> Vec<JoinHandle<Result<(), tonic::Status>>> {
    tickets
        .iter()
        .filter(|t| !t.assignee.is_empty())
        .map(|t| {
            let mut client = app.admin();
            let name = t.name.clone();
            tokio::spawn(async move {
                client
                    .solve_ticket(pb::SolveTicketRequest {
                        name,
                        etag: String::new(),
                        request_id: String::new(),
                    })
                    .await
                    .map(drop)
            })
        })
        .collect()
}

async fn round_robin_takes_turns_and_least_loaded_evens_out(backend: Backend) {
    let Some(app) = spawn(backend).await else {
        return;
    };
    let customer = app.customer_record("Ann", common::Tier::Standard).await;
    let mut admin = app.admin();
    let support = routed_group(&mut admin, "Support", pb::RoutingMethod::RoundRobin).await;
    assert_eq!(support.routing, pb::RoutingMethod::RoundRobin as i32);
    for id in ["a1", "a2", "a3"] {
        agent(&mut admin, id, &[&support]).await;
    }
    let mut assignees = Vec::new();
    for i in 0..6 {
        let t = create(&mut admin, in_group(&customer, &format!("Q{i}"), &support)).await;
        assert_eq!(
            status(&t),
            pb::TicketStatus::Open,
            "a routed ticket is worked"
        );
        assignees.push(t.assignee);
    }
    assert_eq!(
        assignees,
        ["a1", "a2", "a3", "a1", "a2", "a3"].map(|a| format!("agents/{a}"))
    );
    let routed = create(&mut admin, in_group(&customer, "Audited", &support)).await;
    let how = routed_how(&mut admin, &routed.name).await;
    assert!(how.contains("ROUND_ROBIN"), "{how}");

    // Least loaded: a1 carries three tickets now, a2 and a3 two each.
    let billing = routed_group(&mut admin, "Billing", pb::RoutingMethod::LeastLoaded).await;
    for id in ["a1", "a2"] {
        admin
            .add_group_member(pb::AddGroupMemberRequest {
                group: billing.name.clone(),
                agent: format!("agents/{id}"),
            })
            .await
            .unwrap();
    }
    let first = create(&mut admin, in_group(&customer, "Invoice", &billing)).await;
    assert_eq!(first.assignee, "agents/a2", "a2 carries fewer");
    let second = create(&mut admin, in_group(&customer, "Refund", &billing)).await;
    // Both carry three now: the turn goes on after a2.
    assert_eq!(second.assignee, "agents/a1");
}

async fn full_or_unavailable_agents_leave_tickets_queued_until_room_frees(backend: Backend) {
    let Some(app) = spawn(backend).await else {
        return;
    };
    let customer = app.customer_record("Bo", common::Tier::Standard).await;
    let mut admin = app.admin();
    let support = routed_group(&mut admin, "Support", pb::RoutingMethod::RoundRobin).await;
    agent(&mut admin, "a1", &[&support]).await;
    agent(&mut admin, "a2", &[&support]).await;
    set_capacity(&mut admin, "a1", 1).await;
    set_capacity(&mut admin, "a2", 1).await;
    let one = create(&mut admin, in_group(&customer, "One", &support)).await;
    let two = create(&mut admin, in_group(&customer, "Two", &support)).await;
    let three = create(&mut admin, in_group(&customer, "Three", &support)).await;
    assert_eq!(one.assignee, "agents/a1");
    assert_eq!(two.assignee, "agents/a2");
    assert_eq!(three.assignee, "", "nobody has room: it waits");
    assert_eq!(status(&three), pb::TicketStatus::New);

    // Solving a1's ticket frees room: the queue's ticket goes to a1.
    admin
        .solve_ticket(pb::SolveTicketRequest {
            name: one.name.clone(),
            etag: one.etag.clone(),
            request_id: String::new(),
        })
        .await
        .unwrap();
    let three = get(&mut admin, &three.name).await;
    assert_eq!(three.assignee, "agents/a1");
    assert_eq!(status(&three), pb::TicketStatus::Open);

    // An agent who is AWAY takes nothing, and gets the queue when back ONLINE.
    availability(&mut admin, "a1", pb::AgentAvailability::Away)
        .await
        .unwrap();
    set_capacity(&mut admin, "a1", 5).await;
    let four = create(&mut admin, in_group(&customer, "Four", &support)).await;
    assert_eq!(four.assignee, "", "a1 is away, a2 is full");
    let back = availability(&mut admin, "a1", pb::AgentAvailability::Online)
        .await
        .unwrap();
    assert_eq!(back.availability, pb::AgentAvailability::Online as i32);
    assert_eq!(get(&mut admin, &four.name).await.assignee, "agents/a1");

    // More capacity frees room too.
    set_capacity(&mut admin, "a1", 2).await;
    let five = create(&mut admin, in_group(&customer, "Five", &support)).await;
    assert_eq!(five.assignee, "", "a1 carries two of two, a2 one of one");
    set_capacity(&mut admin, "a2", 2).await;
    assert_eq!(get(&mut admin, &five.name).await.assignee, "agents/a2");

    // A merge closes the merged-away ticket, which frees its assignee's room as well.
    let six = create(&mut admin, in_group(&customer, "Six", &support)).await;
    assert_eq!(six.assignee, "", "both carry two of two");
    admin
        .merge_ticket(pb::MergeTicketRequest {
            name: two.name.clone(),
            target: five.name.clone(),
            etag: String::new(),
            request_id: String::new(),
        })
        .await
        .unwrap();
    assert_eq!(get(&mut admin, &six.name).await.assignee, "agents/a2");

    // A group that routes by hand leaves tickets alone.
    let manual = group(&mut admin, "Manual").await;
    agent(&mut admin, "a3", &[&manual]).await;
    let by_hand = create(&mut admin, in_group(&customer, "By hand", &manual)).await;
    assert_eq!(by_hand.assignee, "");

    // Sent on to a routed group without an assignee, it is routed there.
    let tier2 = routed_group(&mut admin, "Tier 2", pb::RoutingMethod::RoundRobin).await;
    admin
        .add_group_member(pb::AddGroupMemberRequest {
            group: tier2.name.clone(),
            agent: "agents/a3".into(),
        })
        .await
        .unwrap();
    let moved = assign(&mut admin, &by_hand.name, "", &tier2.name)
        .await
        .unwrap();
    assert_eq!(
        (moved.group.as_str(), moved.assignee.as_str()),
        (tier2.name.as_str(), "agents/a3")
    );
    assert_eq!(status(&moved), pb::TicketStatus::Open);
    assert_eq!(
        get(&mut admin, &by_hand.name).await,
        moved,
        "the answer is the ticket as stored"
    );
}

async fn availability_and_group_updates_check_who_and_what(backend: Backend) {
    let Some(app) = spawn(backend).await else {
        return;
    };
    let mut admin = app.admin();
    let support = group(&mut admin, "Support").await;
    agent(&mut admin, "a1", &[&support]).await;
    agent(&mut admin, "a2", &[&support]).await;
    let mut a1 = app.agent("a1");
    let own = availability(&mut a1, "a1", pb::AgentAvailability::Offline)
        .await
        .unwrap();
    assert_eq!(own.availability, pb::AgentAvailability::Offline as i32);
    assert_status(
        availability(&mut a1, "a2", pb::AgentAvailability::Offline).await,
        Code::PermissionDenied,
        &[],
    );
    assert_status(
        availability(&mut app.customer("c1"), "a1", pb::AgentAvailability::Online).await,
        Code::PermissionDenied,
        &[],
    );
    assert_status(
        availability(&mut admin, "a2", pb::AgentAvailability::Unspecified).await,
        Code::InvalidArgument,
        &["availability"],
    );
    assert_status(
        availability(&mut admin, "nobody", pb::AgentAvailability::Online).await,
        Code::NotFound,
        &[],
    );
    let bad_routing = admin
        .update_group(pb::UpdateGroupRequest {
            group: Some(pb::Group {
                name: support.name.clone(),
                routing: 42,
                ..Default::default()
            }),
            update_mask: mask(&["routing"]),
            etag: String::new(),
        })
        .await;
    assert_status(bad_routing, Code::InvalidArgument, &["group.routing"]);
    let update =
        |name: &str, display_name: &str, paths: &[&str], etag: &str| pb::UpdateGroupRequest {
            group: Some(pb::Group {
                name: name.into(),
                display_name: display_name.into(),
                ..Default::default()
            }),
            update_mask: mask(paths),
            etag: etag.into(),
        };
    group(&mut admin, "Billing").await;
    let cases: [(_, _, &[&str]); 5] = [
        (
            update("groups/nope", "X", &["display_name"], ""),
            Code::NotFound,
            &[],
        ),
        (
            update(&support.name, "Billing", &["display_name"], ""),
            Code::AlreadyExists,
            &[],
        ),
        (
            update(&support.name, "Y", &["display_name"], "\"stale\""),
            Code::Aborted,
            &[],
        ),
        (
            update(&support.name, "Y", &["members"], ""),
            Code::InvalidArgument,
            &["update_mask"],
        ),
        (
            update(&support.name, "", &["display_name"], ""),
            Code::InvalidArgument,
            &["group.display_name"],
        ),
    ];
    for (request, code, fields) in cases {
        assert_status(admin.update_group(request).await, code, fields);
    }
    let unchanged = admin
        .list_groups(pb::ListGroupsRequest::default())
        .await
        .unwrap()
        .into_inner()
        .groups;
    let support_now = unchanged.iter().find(|g| g.name == support.name).unwrap();
    assert_eq!(support_now, &support, "refused updates change nothing");
    assert_eq!(support_now.routing, pb::RoutingMethod::Manual as i32);
}

async fn concurrent_tickets_never_exceed_capacity(backend: Backend) {
    let Some(app) = spawn(backend).await else {
        return;
    };
    let customer = app.customer_record("Cy", common::Tier::Standard).await;
    let mut admin = app.admin();
    let support = routed_group(&mut admin, "Support", pb::RoutingMethod::RoundRobin).await;
    for id in ["a1", "a2", "a3"] {
        agent(&mut admin, id, &[&support]).await;
        set_capacity(&mut admin, id, 4).await;
    }
    let burst = (0..30).map(|i| in_group(&customer, &format!("Burst {i}"), &support));
    let mut tickets = Vec::new();
    for created in creating(&app, burst.collect()) {
        tickets.push(created.await.unwrap());
    }
    let load = |tickets: &[pb::Ticket]| {
        let mut load: BTreeMap<String, usize> = BTreeMap::new();
        for t in tickets.iter().filter(|t| !t.assignee.is_empty()) {
            if status(t) == pb::TicketStatus::Open {
                *load.entry(t.assignee.clone()).or_default() += 1;
            }
        }
        load
    };
    let first = load(&tickets);
    // Round robin within capacity: each takes exactly four, nobody is skipped.
    assert_eq!(first.values().copied().collect::<Vec<_>>(), [4, 4, 4]);
    let queued: Vec<&pb::Ticket> = tickets.iter().filter(|t| t.assignee.is_empty()).collect();
    assert_eq!(queued.len(), 18);

    // Solving the assigned tickets concurrently hands the queue out, still within capacity.
    for solve in solving(&app, &tickets) {
        solve.await.unwrap().unwrap();
    }
    let mut now = Vec::new();
    for t in &tickets {
        now.push(get(&mut admin, &t.name).await);
    }
    let second = load(&now);
    assert_eq!(second.values().copied().collect::<Vec<_>>(), [4, 4, 4]);
    let still_queued = now.iter().filter(|t| t.assignee.is_empty()).count();
    assert_eq!(still_queued, 6);
}

async fn overlapping_groups_route_concurrently_without_deadlock(backend: Backend) {
    let Some(app) = spawn(backend).await else {
        return;
    };
    let customer = app.customer_record("Di", common::Tier::Standard).await;
    let mut admin = app.admin();
    let sales = routed_group(&mut admin, "Sales", pb::RoutingMethod::LeastLoaded).await;
    let support = routed_group(&mut admin, "Support", pb::RoutingMethod::RoundRobin).await;
    for (id, groups) in [
        ("a1", vec![&sales, &support]),
        ("a2", vec![&support, &sales]),
        ("a3", vec![&support]),
    ] {
        agent(&mut admin, id, &groups).await;
        set_capacity(&mut admin, id, 3).await;
    }
    let in_turn = |i: usize, prefix: &str| {
        let group = if i.is_multiple_of(2) {
            &sales
        } else {
            &support
        };
        in_group(&customer, &format!("{prefix} {i}"), group)
    };
    let mut tickets = Vec::new();
    for created in creating(&app, (0..24).map(|i| in_turn(i, "Mixed")).collect()) {
        tickets.push(created.await.unwrap());
    }
    // Solves (each handing out in both groups of its agent) racing new tickets in both groups.
    let solves = solving(&app, &tickets);
    let more = creating(&app, (0..6).map(|i| in_turn(i + 1, "Late")).collect());
    for solve in solves {
        solve.await.unwrap().unwrap();
    }
    for created in more {
        created.await.unwrap();
    }
    let open = admin
        .list_tickets(pb::ListTicketsRequest {
            statuses: vec![pb::TicketStatus::Open as i32],
            page_size: 1000,
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .tickets;
    let mut load: BTreeMap<String, usize> = BTreeMap::new();
    for t in open.iter().filter(|t| !t.assignee.is_empty()) {
        *load.entry(t.assignee.clone()).or_default() += 1;
    }
    // 21 tickets are still worked or waiting: every agent is full again, none beyond capacity.
    assert_eq!(
        load.values().copied().collect::<Vec<_>>(),
        [3, 3, 3],
        "{load:?}"
    );
}
