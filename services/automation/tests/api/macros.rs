use kefu_principal::{Principal, Role};
use kefu_proto::automation::v1 as pb;
use kefu_proto::common::v1 as common;
use kefu_proto::tickets::v1 as tpb;
use kefu_testkit::{Backend, backend_tests};
use tonic::Code;

use crate::helpers::*;

backend_tests!(
    a_macro_is_previewed_then_applied_as_the_agent_to_many_tickets_once_per_request,
    personal_macros_stay_their_owners_and_bad_macros_and_requests_change_nothing,
    a_macro_cannot_do_what_the_agent_may_not,
    while_tickets_is_down_an_application_is_retryable_and_a_retry_applies_it_once,
);

pub(crate) fn shared(name: &str, actions: Vec<pb::Action>) -> pb::Macro {
    pb::Macro {
        display_name: name.into(),
        active: true,
        visibility: pb::MacroVisibility::Shared as i32,
        actions,
        ..Default::default()
    }
}

fn personal(name: &str) -> pb::Macro {
    pb::Macro {
        visibility: pb::MacroVisibility::Personal as i32,
        ..shared(name, vec![add_tags(&["mine"])])
    }
}

pub(crate) async fn create(client: &mut Client, m: pb::Macro) -> Result<pb::Macro, tonic::Status> {
    client
        .create_macro(pb::CreateMacroRequest {
            r#macro: Some(m),
            request_id: String::new(),
        })
        .await
        .map(tonic::Response::into_inner)
}

async fn apply(
    client: &mut Client,
    name: &str,
    tickets: &[&str],
    request_id: &str,
) -> Result<Vec<pb::MacroResult>, tonic::Status> {
    client
        .apply_macro(pb::ApplyMacroRequest {
            name: name.into(),
            tickets: tickets.iter().map(|t| (*t).to_owned()).collect(),
            request_id: request_id.into(),
        })
        .await
        .map(|r| r.into_inner().results)
}

async fn names_listed(client: &mut Client) -> Vec<String> {
    client
        .list_macros(pb::ListMacrosRequest::default())
        .await
        .unwrap()
        .into_inner()
        .macros
        .into_iter()
        .map(|m| m.display_name)
        .collect()
}

async fn a_macro_is_previewed_then_applied_as_the_agent_to_many_tickets_once_per_request(
    backend: Backend,
) {
    let Some(app) = spawn(backend).await else {
        return;
    };
    let refund = create(
        &mut app.admin(),
        shared(
            "Refund issued",
            vec![
                reply(
                    "您好 {{ requester.name }}，工单 {{ ticket.id }} 的退款已处理。",
                    true,
                ),
                set_field("priority", "HIGH"),
                add_tags(&["refund"]),
                set_field("status", "PENDING"),
            ],
        ),
    )
    .await
    .unwrap();
    assert_eq!(refund.owner, "admin-1");
    assert_eq!(refund.usage_count, 0);
    let wang = app.customer("王芳", common::Tier::Vip).await;
    let anna = app.customer("Anna", common::Tier::Standard).await;
    let first = app.ticket(&wang, "我要申请退款").await;
    let second = app.ticket(&anna, "Refund please").await;
    let first_id = first.name.trim_start_matches("tickets/").to_owned();

    let preview = app
        .agent()
        .preview_macro(pb::PreviewMacroRequest {
            name: refund.name.clone(),
            ticket: first.name.clone(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    let changes: Vec<(&str, &str, &str)> = preview
        .changes
        .iter()
        .map(|c| (c.field.as_str(), c.before.as_str(), c.after.as_str()))
        .collect();
    let text = format!("您好 王芳，工单 {first_id} 的退款已处理。");
    let status_before = first
        .status()
        .as_str_name()
        .trim_start_matches("TICKET_STATUS_");
    assert_eq!(
        changes,
        vec![
            ("comment", "", text.as_str()),
            ("priority", "NORMAL", "HIGH"),
            ("tags", "", "refund"),
            ("status", status_before, "PENDING"),
        ]
    );
    assert_eq!(preview.actions.len(), 4);
    // The preview wrote nothing.
    assert!(app.comments(&first.name).await.is_empty());
    assert_eq!(app.get_ticket(&first.name).await.status, first.status);

    let tickets = [first.name.as_str(), second.name.as_str()];
    let results = apply(&mut app.agent(), &refund.name, &tickets, "apply-1")
        .await
        .unwrap();
    assert_eq!(results.len(), 2);
    for (result, ticket) in results.iter().zip(tickets) {
        assert_eq!(result.ticket, ticket);
        assert!(result.applied, "{result:?}");
        let now = app.get_ticket(ticket).await;
        assert_eq!(now.status(), tpb::TicketStatus::Pending);
        assert_eq!(now.priority(), tpb::TicketPriority::High);
        assert_eq!(now.tags, vec!["refund".to_owned()]);
        let comments = app.comments(ticket).await;
        assert_eq!(comments.len(), 1);
        // Applied as the agent, not as automation.
        assert_eq!(comments[0].author, "agent-1");
        assert!(comments[0].public);
    }
    assert_eq!(app.comments(&first.name).await[0].body, text);

    // A retry of the same call applies nothing again and counts nothing again.
    let again = apply(&mut app.agent(), &refund.name, &tickets, "apply-1")
        .await
        .unwrap();
    assert!(again.iter().all(|r| r.applied));
    for ticket in tickets {
        assert_eq!(app.comments(ticket).await.len(), 1);
    }
    let read = |app: &App| {
        let mut admin = app.admin();
        let name = refund.name.clone();
        async move {
            admin
                .get_macro(pb::GetMacroRequest { name })
                .await
                .unwrap()
                .into_inner()
        }
    };
    let counted = read(&app).await;
    assert_eq!(counted.usage_count, 2);
    assert!(counted.last_used_time.is_some());

    // A new request is a new use.
    let later = apply(&mut app.agent(), &refund.name, &tickets[..1], "apply-2")
        .await
        .unwrap();
    assert!(later[0].applied);
    assert_eq!(app.comments(&first.name).await.len(), 2);
    assert_eq!(read(&app).await.usage_count, 3);
}

async fn personal_macros_stay_their_owners_and_bad_macros_and_requests_change_nothing(
    backend: Backend,
) {
    let Some(app) = spawn(backend).await else {
        return;
    };
    let mut lin = app.client(&Principal::new("lin", Role::Agent));
    let mut zhou = app.client(&Principal::new("zhou", Role::Agent));
    let mine = create(&mut lin, personal("Lin's tags")).await.unwrap();
    assert_eq!(mine.owner, "lin");
    create(
        &mut app.admin(),
        shared("Greeting", vec![reply("Hi", true)]),
    )
    .await
    .unwrap();

    assert_eq!(names_listed(&mut lin).await, vec!["Greeting", "Lin's tags"]);
    assert_eq!(names_listed(&mut zhou).await, vec!["Greeting"]);
    assert_eq!(names_listed(&mut app.admin()).await.len(), 2);
    let only_personal = lin
        .list_macros(pb::ListMacrosRequest {
            visibility: pb::MacroVisibility::Personal as i32,
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .macros;
    assert_eq!(only_personal.len(), 1);
    assert_status(
        zhou.get_macro(pb::GetMacroRequest {
            name: mine.name.clone(),
        })
        .await,
        Code::NotFound,
        &[],
    );
    let rename = |name: &str, etag: &str| pb::UpdateMacroRequest {
        r#macro: Some(pb::Macro {
            name: mine.name.clone(),
            display_name: name.into(),
            ..Default::default()
        }),
        update_mask: Some(prost_types::FieldMask {
            paths: vec!["display_name".into()],
        }),
        etag: etag.into(),
    };
    assert_status(
        zhou.update_macro(rename("Zhou's now", "")).await,
        Code::NotFound,
        &[],
    );
    let renamed = lin
        .update_macro(rename("Lin's tags v2", &mine.etag))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(renamed.owner, "lin");
    assert_status(
        lin.update_macro(rename("stale", &mine.etag)).await,
        Code::Aborted,
        &[],
    );

    // Agents keep personal macros only; integrations and customers keep none.
    assert_status(
        create(&mut lin, shared("Everyone's", vec![reply("Hi", true)])).await,
        Code::PermissionDenied,
        &[],
    );
    let mut bot = app.client(&Principal::new("bot", Role::Integration));
    assert_status(
        create(&mut bot, personal("Bot's")).await,
        Code::PermissionDenied,
        &[],
    );
    assert_eq!(names_listed(&mut bot).await, vec!["Greeting"]);
    let mut customer = app.client(&Principal::customer("c1"));
    assert_status(
        customer.list_macros(pb::ListMacrosRequest::default()).await,
        Code::PermissionDenied,
        &[],
    );

    // Bad macros name the part and store nothing.
    let unknown = create(
        &mut lin,
        pb::Macro {
            actions: vec![reply("Hi {{ requester.email }}", true)],
            ..personal("Bad")
        },
    )
    .await;
    let refused = assert_status(
        unknown,
        Code::InvalidArgument,
        &["macro.actions[0].reply.body"],
    );
    assert!(
        refused.message().contains("unknown placeholder"),
        "{refused:?}"
    );
    assert_status(
        create(
            &mut lin,
            pb::Macro {
                visibility: 0,
                ..personal("No visibility")
            },
        )
        .await,
        Code::InvalidArgument,
        &["macro.visibility"],
    );
    assert_status(
        create(
            &mut lin,
            pb::Macro {
                actions: Vec::new(),
                ..personal("Empty")
            },
        )
        .await,
        Code::InvalidArgument,
        &["macro.actions"],
    );
    assert_eq!(names_listed(&mut lin).await.len(), 2);

    // Bad apply requests change nothing.
    let wang = app.customer("王芳", common::Tier::Vip).await;
    let ticket = app.ticket(&wang, "发票").await;
    let t = ticket.name.as_str();
    assert_status(
        apply(&mut lin, &mine.name, &[t], "").await,
        Code::InvalidArgument,
        &["request_id"],
    );
    assert_status(
        apply(&mut lin, &mine.name, &[t, t], "twice").await,
        Code::InvalidArgument,
        &["tickets[1]"],
    );
    assert_status(
        apply(&mut lin, &mine.name, &[], "none").await,
        Code::InvalidArgument,
        &["tickets"],
    );
    assert_status(
        apply(&mut zhou, &mine.name, &[t], "not-yours").await,
        Code::NotFound,
        &[],
    );
    let off = switch_off_macro(&mut lin, &mine.name, &renamed.etag).await;
    assert!(!off.active);
    assert_status(
        apply(&mut lin, &mine.name, &[t], "inactive").await,
        Code::FailedPrecondition,
        &[],
    );
    assert!(app.get_ticket(t).await.tags.is_empty());

    // Deleted by its owner, it is gone for everyone.
    lin.delete_macro(pb::DeleteMacroRequest {
        name: mine.name.clone(),
        etag: off.etag,
    })
    .await
    .unwrap();
    assert_eq!(names_listed(&mut app.admin()).await, vec!["Greeting"]);
}

async fn a_macro_cannot_do_what_the_agent_may_not(backend: Backend) {
    let Some(app) = spawn(backend).await else {
        return;
    };
    // Lin sees only the tickets assigned to her.
    app.tickets_admin()
        .create_agent(tpb::CreateAgentRequest {
            agent: Some(tpb::Agent {
                display_name: "Lin".into(),
                email: "lin@example.com".into(),
                active: true,
                capacity: 10,
                ticket_scope: tpb::TicketScope::Assigned as i32,
                ..Default::default()
            }),
            agent_id: "lin".into(),
            request_id: String::new(),
        })
        .await
        .unwrap();
    let tag = create(&mut app.admin(), shared("Tag", vec![add_tags(&["seen"])]))
        .await
        .unwrap();
    let wang = app.customer("王芳", common::Tier::Vip).await;
    let theirs = app.ticket(&wang, "Not Lin's").await;
    let hers = app.ticket(&wang, "Lin's").await;
    app.tickets_admin()
        .assign_ticket(tpb::AssignTicketRequest {
            name: hers.name.clone(),
            assignee: "agents/lin".into(),
            ..Default::default()
        })
        .await
        .unwrap();
    let mut lin = app.client(&Principal::new("lin", Role::Agent));
    let results = apply(
        &mut lin,
        &tag.name,
        &[theirs.name.as_str(), hers.name.as_str()],
        "scope",
    )
    .await
    .unwrap();
    assert!(!results[0].applied && !results[0].retryable, "{results:?}");
    assert!(results[0].error.contains("not found"), "{results:?}");
    assert!(results[1].applied, "{results:?}");
    assert!(app.get_ticket(&theirs.name).await.tags.is_empty());
    assert_eq!(
        app.get_ticket(&hers.name).await.tags,
        vec!["seen".to_owned()]
    );
    assert_status(
        lin.preview_macro(pb::PreviewMacroRequest {
            name: tag.name.clone(),
            ticket: theirs.name.clone(),
            ..Default::default()
        })
        .await,
        Code::NotFound,
        &[],
    );
    let counted = app
        .admin()
        .get_macro(pb::GetMacroRequest { name: tag.name })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(counted.usage_count, 1);
}

async fn while_tickets_is_down_an_application_is_retryable_and_a_retry_applies_it_once(
    backend: Backend,
) {
    let Some(app) = spawn(backend).await else {
        return;
    };
    let greet = create(
        &mut app.admin(),
        shared("Greet", vec![reply("Hello {{ requester.name }}", true)]),
    )
    .await
    .unwrap();
    let anna = app.customer("Anna", common::Tier::Standard).await;
    let ticket = app.ticket(&anna, "Where is my parcel?").await;
    let App {
        key,
        customers,
        tickets,
        automation,
    } = app;
    let addr = tickets.addr;
    let (stopped, database) = tickets.stop_keeping_database().await;
    stopped.unwrap();
    let mut agent = App::client_of(&automation, &Principal::new("agent-1", Role::Agent));
    let down = apply(&mut agent, &greet.name, &[ticket.name.as_str()], "down")
        .await
        .unwrap();
    assert!(!down[0].applied && down[0].retryable, "{down:?}");

    let mut settings = kefu_tickets::Settings::new(format!("http://{}", customers.addr));
    settings.sweep_interval = std::time::Duration::from_secs(3600);
    let tickets = kefu_testkit::TestServer::restart_service::<kefu_tickets::Tickets>(
        database,
        &key,
        addr,
        kefu_server::Clock::system(),
        settings,
    )
    .await
    .unwrap();
    let app = App {
        key,
        customers,
        tickets,
        automation,
    };
    let up = eventually("tickets back", || {
        let mut agent = agent.clone();
        let (name, ticket) = (greet.name.clone(), ticket.name.clone());
        async move {
            let results = apply(&mut agent, &name, &[ticket.as_str()], "down")
                .await
                .unwrap();
            results[0].applied.then_some(results)
        }
    })
    .await;
    assert!(up[0].error.is_empty());
    let comments = app.comments(&ticket.name).await;
    assert_eq!(comments.len(), 1);
    assert_eq!(comments[0].body, "Hello Anna");
    let counted = app
        .admin()
        .get_macro(pb::GetMacroRequest { name: greet.name })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(counted.usage_count, 1);
}
