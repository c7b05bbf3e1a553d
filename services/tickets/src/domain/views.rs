//! Saved views: who may run and change one.

/// A saved view as stored; its filter is kept as the contract encodes it.
#[derive(Debug, Clone, PartialEq)]
pub struct ViewRecord {
    /// Id.
    pub id: String,
    /// Name shown to people.
    pub display_name: String,
    /// The agent who created it (a principal id), who may change it.
    pub owner_id: Option<String>,
    /// The group a shared view is shared with.
    pub group_id: Option<String>,
    /// The encoded filter.
    pub filter: Vec<u8>,
    /// ListTickets' `order_by`.
    pub order_by: String,
    /// Micros.
    pub create_time: i64,
    /// Version, for etags.
    pub version: i64,
}

/// Who is looking at views.
#[derive(Debug, Clone)]
pub struct Viewer {
    /// Their principal (agent) id.
    pub id: String,
    /// The groups they belong to.
    pub groups: Vec<String>,
    /// Admins see and change every view.
    pub admin: bool,
}

impl Viewer {
    /// Whether they may run `view`: their own, one shared with a group of theirs, or any as an
    /// admin.
    pub fn may_run(&self, view: &ViewRecord) -> bool {
        self.admin
            || view.owner_id.as_deref() == Some(self.id.as_str())
            || view
                .group_id
                .as_ref()
                .is_some_and(|g| self.groups.contains(g))
    }

    /// Whether they may change or delete `view`: one they created, or any as an admin; the
    /// other members of a shared view's group only run it.
    pub fn may_change(&self, view: &ViewRecord) -> bool {
        self.admin || view.owner_id.as_deref() == Some(self.id.as_str())
    }

    /// Whether they may share a view with `group_id`.
    pub fn may_share_with(&self, group_id: &str) -> bool {
        self.admin || self.groups.iter().any(|g| g == group_id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn view(owner: Option<&str>, group: Option<&str>) -> ViewRecord {
        ViewRecord {
            id: "v1".into(),
            display_name: "Mine".into(),
            owner_id: owner.map(str::to_owned),
            group_id: group.map(str::to_owned),
            filter: Vec::new(),
            order_by: String::new(),
            create_time: 0,
            version: 1,
        }
    }

    #[test]
    fn views_are_run_by_owners_members_and_admins_and_changed_by_owners_and_admins() {
        let ann = Viewer {
            id: "ann".into(),
            groups: vec!["billing".into()],
            admin: false,
        };
        let boss = Viewer {
            id: "boss".into(),
            groups: Vec::new(),
            admin: true,
        };
        let personal = view(Some("ann"), None);
        let bobs = view(Some("bob"), None);
        let shared = view(Some("bob"), Some("billing"));
        let elsewhere = view(None, Some("sales"));
        assert!(ann.may_run(&personal) && ann.may_change(&personal));
        assert!(!ann.may_run(&bobs) && !ann.may_change(&bobs));
        assert!(ann.may_run(&shared) && !ann.may_change(&shared));
        assert!(!ann.may_run(&elsewhere));
        assert!(boss.may_run(&elsewhere) && boss.may_change(&elsewhere));
        assert!(ann.may_share_with("billing") && !ann.may_share_with("sales"));
    }
}
