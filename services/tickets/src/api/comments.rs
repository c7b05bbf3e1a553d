//! Replies and internal notes.

use kefu_proto::tickets::v1 as pb;
use kefu_server::common::Channel;
use kefu_server::paging::Page;
use kefu_server::{Violations, principal_of, validate};
use tonic::{Request, Response};

use super::{Rpc, TicketsApi, allow, convert};
use crate::domain::access::{Action, own_customer};
use crate::domain::ticket;
use crate::ops::{Actor, NewComment};

pub(super) async fn create(
    api: &TicketsApi,
    request: Request<pb::CreateCommentRequest>,
) -> Rpc<pb::Comment> {
    let principal = principal_of(&request)?;
    allow(&principal, Action::Comment)?;
    let r = request.get_ref();
    let input = r.comment.clone().unwrap_or_default();
    let mut v = Violations::new();
    let ticket_id = validate::resource_id(&r.parent, "tickets", "parent", &mut v);
    let body = ticket::text(&input.body, true, "comment.body", &mut v);
    let channel = convert::channel(input.channel, Some(Channel::Api), "comment.channel", &mut v);
    let attachments = convert::attachments(&input.attachments, "comment.attachments", &mut v);
    let replay = validate::replay(
        &principal,
        &r.request_id,
        "CreateComment",
        r,
        |(comment, _)| convert::comment(comment),
        &mut v,
    );
    if own_customer(&principal).is_some() && !input.public {
        v.add("comment.public", "customers can only write public replies");
    }
    v.into_result()?;
    let new = NewComment {
        ticket_id,
        body,
        public: input.public,
        channel: channel.unwrap_or(Channel::Api),
        attachments,
    };
    let actor = Actor::of(&principal, "CreateComment");
    let comment = api.ops.add_comment(&actor, new, &replay).await?;
    Ok(Response::new(comment))
}

pub(super) async fn list(
    api: &TicketsApi,
    request: Request<pb::ListCommentsRequest>,
) -> Rpc<pb::ListCommentsResponse> {
    let principal = principal_of(&request)?;
    allow(&principal, Action::ReadTickets)?;
    let r = request.get_ref();
    let mut v = Violations::new();
    let ticket_id = validate::resource_id(&r.parent, "tickets", "parent", &mut v);
    let page: Page<String> = Page::read(
        r.page_size,
        &r.page_token,
        &[&ticket_id, principal.role.as_str()],
        &mut v,
    );
    v.into_result()?;
    let actor = Actor::of(&principal, "ListComments");
    let rows = api
        .ops
        .list_comments(&actor, &ticket_id, page.after.as_deref(), page.fetch())
        .await?;
    let (records, next_page_token) = page.finish(rows, |c| c.id.clone());
    Ok(Response::new(pb::ListCommentsResponse {
        comments: records.iter().map(convert::comment).collect(),
        next_page_token,
    }))
}
