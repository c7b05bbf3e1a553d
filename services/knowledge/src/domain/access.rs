//! Who may do what, and what each reader may see (the table in `knowledge_service.proto`).

use kefu_principal::{Principal, Role};

use super::kinds::{ArticleState, Visibility};

/// Everything that needs a decision.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// Create, update or delete categories; create, edit, publish, archive, delete, restore articles.
    Write,
    /// Read categories and the articles in the caller's [`Scope`].
    Read,
    /// Read revisions and unpublished text.
    ReadDrafts,
    /// Vote on and count views of visible articles.
    Feedback,
    /// Follow the event stream.
    WatchEvents,
}

/// Which articles a reader may see.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// Everything, in every state.
    Staff,
    /// Published articles, public and internal.
    PublishedAll,
    /// Published public articles only.
    PublishedPublic,
}

impl Scope {
    /// The scope of a principal.
    pub fn of(principal: &Principal) -> Scope {
        match principal.role {
            Role::Admin | Role::Agent => Scope::Staff,
            Role::Integration => Scope::PublishedAll,
            Role::Customer => Scope::PublishedPublic,
        }
    }

    /// True when an article in `state` with `visibility` is visible in this scope.
    pub fn sees(self, state: ArticleState, visibility: Visibility) -> bool {
        match self {
            Scope::Staff => true,
            Scope::PublishedAll => state == ArticleState::Published,
            Scope::PublishedPublic => {
                state == ArticleState::Published && visibility == Visibility::Public
            }
        }
    }
}

/// Checks a principal against an action. Exhaustive on purpose: a new role or action forces a decision.
pub fn authorize(principal: &Principal, action: Action) -> Result<(), String> {
    let allowed = match (principal.role, action) {
        (
            Role::Admin | Role::Agent,
            Action::Write | Action::Read | Action::ReadDrafts | Action::Feedback,
        ) => true,
        (Role::Admin, Action::WatchEvents) => true,
        (Role::Agent, Action::WatchEvents) => false,
        (Role::Integration, Action::Read | Action::Feedback | Action::WatchEvents) => true,
        (Role::Integration, Action::Write | Action::ReadDrafts) => false,
        (Role::Customer, Action::Read | Action::Feedback) => true,
        (Role::Customer, Action::Write | Action::ReadDrafts | Action::WatchEvents) => false,
    };
    if allowed {
        Ok(())
    } else {
        Err(format!("role {} may not {action:?}", principal.role))
    }
}
