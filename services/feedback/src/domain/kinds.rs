//! The feedback service's enums, with the numbers the contract and the database use.

kefu_server::numbered_enum! {
    /// What a survey measures.
    pub enum SurveyKind : "SURVEY_KIND_" {
        /// Satisfaction with one solved ticket, 1 to 5.
        Csat = 1 "CSAT",
        /// Likelihood to recommend, 0 to 10.
        Nps = 2 "NPS",
    }
}

kefu_server::numbered_enum! {
    /// Where a survey stands.
    pub enum SurveyState : "SURVEY_STATE_" {
        /// Waiting for the answer.
        Pending = 1 "PENDING",
        /// Answered.
        Responded = 2 "RESPONDED",
        /// Too late to answer.
        Expired = 3 "EXPIRED",
    }
}

kefu_server::numbered_enum! {
    /// What a customer sends unasked.
    pub enum FeedbackKind : "FEEDBACK_KIND_" {
        /// Something went wrong: investigated in a COMPLAINT ticket.
        Complaint = 1 "COMPLAINT",
        /// An idea for improvement.
        Suggestion = 2 "SUGGESTION",
        /// Something went well.
        Praise = 3 "PRAISE",
    }
}

kefu_server::numbered_enum! {
    /// Where the handling of feedback stands.
    pub enum FeedbackState : "FEEDBACK_STATE_" {
        /// Received (suggestions and praise stay here).
        Received = 1 "RECEIVED",
        /// A complaint whose ticket is open or being opened.
        InProgress = 2 "IN_PROGRESS",
        /// A complaint whose ticket was solved.
        Resolved = 3 "RESOLVED",
    }
}

kefu_server::numbered_enum! {
    /// Where the ticket a survey or complaint asks for stands.
    pub enum FollowUpState : "FOLLOW_UP_STATE_" {
        /// Queued; opened as soon as the tickets service takes it.
        Pending = 1 "PENDING",
        /// The ticket exists.
        Opened = 2 "OPENED",
        /// The tickets service refused it for good.
        Failed = 3 "FAILED",
    }
}
