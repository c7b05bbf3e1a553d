//! The knowledge service's enums, with the numbers the contract and the database use.

kefu_server::numbered_enum! {
    /// Where an article is in its life.
    pub enum ArticleState : "ARTICLE_STATE_" {
        /// Being written; only staff see it.
        Draft = 1 "DRAFT",
        /// Readers see its published revision.
        Published = 2 "PUBLISHED",
        /// Withdrawn from readers.
        Archived = 3 "ARCHIVED",
    }
}

kefu_server::numbered_enum! {
    /// Who may read a published article.
    pub enum Visibility : "VISIBILITY_" {
        /// Customers too.
        Public = 1 "PUBLIC",
        /// Staff and integrations only (training, internal procedures).
        Internal = 2 "INTERNAL",
    }
}
