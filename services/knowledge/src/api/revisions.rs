//! Publishing and the revision history.

use kefu_proto::knowledge::v1 as pb;
use tonic::{Request, Response};

use kefu_server::paging::Page;
use kefu_server::validate;
use kefu_server::{Violations, principal_of};

use super::{KnowledgeApi, Rpc, allow, convert, revision_ids};
use crate::domain::access::Action;

pub(super) async fn publish(
    api: &KnowledgeApi,
    request: Request<pb::PublishArticleRequest>,
) -> Rpc<pb::Article> {
    let principal = principal_of(&request)?;
    allow(&principal, Action::Write)?;
    let r = request.get_ref();
    let id = validate::required_id(&r.name, "articles", "name")?;
    let revision = if r.revision.is_empty() {
        None
    } else {
        let (article_id, revision_id) = revision_ids(&r.revision, "revision")?;
        if article_id != id {
            let mut v = Violations::new();
            v.add("revision", "belongs to another article");
            return Err(v.into());
        }
        Some(revision_id)
    };
    let replay = validate::replay_alone(
        &principal,
        &r.request_id,
        "PublishArticle",
        r,
        convert::article,
    )?;
    let article = api
        .ops
        .publish(&principal.id, &id, revision.as_deref(), &r.etag, &replay)
        .await?;
    Ok(Response::new(article))
}

pub(super) async fn archive(
    api: &KnowledgeApi,
    request: Request<pb::ArchiveArticleRequest>,
) -> Rpc<pb::Article> {
    let principal = principal_of(&request)?;
    allow(&principal, Action::Write)?;
    let r = request.get_ref();
    let id = validate::required_id(&r.name, "articles", "name")?;
    let replay = validate::replay_alone(
        &principal,
        &r.request_id,
        "ArchiveArticle",
        r,
        convert::article,
    )?;
    let article = api
        .ops
        .archive(&principal.id, &id, &r.etag, &replay)
        .await?;
    Ok(Response::new(article))
}

pub(super) async fn list(
    api: &KnowledgeApi,
    request: Request<pb::ListArticleRevisionsRequest>,
) -> Rpc<pb::ListArticleRevisionsResponse> {
    let principal = principal_of(&request)?;
    allow(&principal, Action::ReadDrafts)?;
    let r = request.into_inner();
    let id = validate::required_id(&r.parent, "articles", "parent")?;
    let mut v = Violations::new();
    let page: Page<i64> = Page::read(r.page_size, &r.page_token, &[&id], &mut v);
    v.into_result()?;
    let rows = api
        .ops
        .list_revisions(&id, page.after, page.fetch())
        .await?;
    let (revisions, next_page_token) = page.finish(rows, |rev| rev.number);
    Ok(Response::new(pb::ListArticleRevisionsResponse {
        revisions: revisions.iter().map(convert::revision).collect(),
        next_page_token,
    }))
}

pub(super) async fn get(
    api: &KnowledgeApi,
    request: Request<pb::GetArticleRevisionRequest>,
) -> Rpc<pb::Revision> {
    let principal = principal_of(&request)?;
    allow(&principal, Action::ReadDrafts)?;
    let (article_id, revision_id) = revision_ids(&request.get_ref().name, "name")?;
    Ok(Response::new(convert::revision(
        &api.ops.get_revision(&article_id, &revision_id).await?,
    )))
}

pub(super) async fn restore(
    api: &KnowledgeApi,
    request: Request<pb::RestoreArticleRevisionRequest>,
) -> Rpc<pb::Article> {
    let principal = principal_of(&request)?;
    allow(&principal, Action::Write)?;
    let r = request.get_ref();
    let (article_id, revision_id) = revision_ids(&r.name, "name")?;
    let replay = validate::replay_alone(
        &principal,
        &r.request_id,
        "RestoreArticleRevision",
        r,
        convert::article,
    )?;
    let article = api
        .ops
        .restore(&principal.id, &article_id, &revision_id, &r.etag, &replay)
        .await?;
    Ok(Response::new(article))
}
