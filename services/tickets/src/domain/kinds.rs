//! The tickets service's enums, with the numbers the contract and the database use.

kefu_server::numbered_enum! {
    /// Where a ticket is in its life.
    pub enum TicketStatus : "TICKET_STATUS_" {
        /// Just created, nobody on it yet.
        New = 1 "NEW",
        /// Being worked.
        Open = 2 "OPEN",
        /// Waiting for the requester.
        Pending = 3 "PENDING",
        /// Waiting for a third party.
        OnHold = 4 "ON_HOLD",
        /// Solved; the requester may still reply.
        Solved = 5 "SOLVED",
        /// Closed for good.
        Closed = 6 "CLOSED",
    }
}

kefu_server::numbered_enum! {
    /// How urgent a ticket is.
    pub enum Priority : "TICKET_PRIORITY_" {
        /// Low.
        Low = 1 "LOW",
        /// Normal, the default.
        Normal = 2 "NORMAL",
        /// High.
        High = 3 "HIGH",
        /// Urgent.
        Urgent = 4 "URGENT",
    }
}

kefu_server::numbered_enum! {
    /// What kind of request a ticket is.
    pub enum TicketType : "TICKET_TYPE_" {
        /// A question, the default.
        Question = 1 "QUESTION",
        /// Something broke.
        Incident = 2 "INCIDENT",
        /// The cause behind incidents.
        Problem = 3 "PROBLEM",
        /// Work to do.
        Task = 4 "TASK",
        /// A complaint.
        Complaint = 5 "COMPLAINT",
        /// Repair, replacement, return or maintenance.
        AfterSales = 6 "AFTER_SALES",
    }
}

kefu_server::numbered_enum! {
    /// What an AFTER_SALES ticket asks for.
    pub enum AfterSalesKind : "AFTER_SALES_KIND_" {
        /// Repair.
        Repair = 1 "REPAIR",
        /// Replacement.
        Replace = 2 "REPLACE",
        /// Return.
        Return = 3 "RETURN",
        /// Scheduled maintenance.
        Maintenance = 4 "MAINTENANCE",
    }
}

kefu_server::numbered_enum! {
    /// Who wrote a comment.
    pub enum AuthorKind : "AUTHOR_KIND_" {
        /// An agent or admin.
        Agent = 1 "AGENT",
        /// The requester.
        Customer = 2 "CUSTOMER",
        /// kefu itself or an integration.
        System = 3 "SYSTEM",
    }
}

kefu_server::numbered_enum! {
    /// How two tickets are linked, seen from the first.
    pub enum LinkKind : "LINK_KIND_" {
        /// Related.
        Related = 1 "RELATED",
        /// The other is a child of this one.
        Child = 2 "CHILD",
        /// The other is the parent of this one.
        Parent = 3 "PARENT",
    }
}

kefu_server::numbered_enum! {
    /// How a group hands out its new tickets.
    pub enum RoutingMethod : "ROUTING_METHOD_" {
        /// Someone assigns each ticket by hand, the default.
        Manual = 1 "MANUAL",
        /// To each agent in turn.
        RoundRobin = 2 "ROUND_ROBIN",
        /// To the agent with the fewest tickets in progress, in turn among equals.
        LeastLoaded = 3 "LEAST_LOADED",
        /// To the least-loaded agent holding every skill the ticket needs, in turn among equals.
        SkillsBased = 4 "SKILLS_BASED",
    }
}

kefu_server::numbered_enum! {
    /// Whether an agent takes routed tickets now.
    pub enum Availability : "AGENT_AVAILABILITY_" {
        /// Takes routed tickets, the default.
        Online = 1 "ONLINE",
        /// Keeps their tickets, takes no new ones.
        Away = 2 "AWAY",
        /// Keeps their tickets, takes no new ones.
        Offline = 3 "OFFLINE",
    }
}

kefu_server::numbered_enum! {
    /// Which tickets an agent sees and works.
    pub enum TicketScope : "TICKET_SCOPE_" {
        /// Every ticket, the default.
        All = 1 "ALL",
        /// Their groups' tickets and those assigned to them.
        Groups = 2 "GROUPS",
        /// Only tickets assigned to them.
        Assigned = 3 "ASSIGNED",
    }
}

kefu_server::numbered_enum! {
    /// A step of urgency or impact.
    pub enum Level : "LEVEL_" {
        /// Low.
        Low = 1 "LOW",
        /// Medium.
        Medium = 2 "MEDIUM",
        /// High.
        High = 3 "HIGH",
    }
}

kefu_server::numbered_enum! {
    /// Where a ticket's priority came from.
    pub enum PrioritySource : "PRIORITY_SOURCE_" {
        /// Nobody said: NORMAL.
        Default = 1 "DEFAULT",
        /// Set by a client, overriding the matrix.
        Manual = 2 "MANUAL",
        /// The priority matrix, from urgency and impact.
        Matrix = 3 "MATRIX",
        /// Raised by an SLA escalation level; the matrix leaves it, as it leaves MANUAL.
        Escalation = 4 "ESCALATION",
    }
}

impl PrioritySource {
    /// Whether the priority is held against the matrix: set by hand, or raised by escalation.
    pub fn held(self) -> bool {
        matches!(self, Self::Manual | Self::Escalation)
    }
}
