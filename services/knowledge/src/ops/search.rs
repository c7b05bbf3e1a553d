//! Search in English and Chinese, and article suggestions for a ticket's text.

use kefu_server::ServiceError;

use super::{Hit, Knowledge};
use crate::domain::access::Scope;
use crate::domain::article::ArticleRecord;
use crate::domain::kinds::ArticleState;
use crate::domain::search as text;
use crate::store::{self, ArticleFilter};

impl Knowledge {
    /// Searches with `terms` (already analyzed).
    pub async fn search(
        &self,
        scope: Scope,
        terms: &[String],
        filter: &ArticleFilter,
        after: Option<&(i64, String)>,
        limit: usize,
    ) -> Result<Vec<Hit>, ServiceError> {
        let mut conn = self.ctx.db.read().await?;
        let (documents, frequencies) = store::term_statistics(&mut conn, terms).await?;
        // A term no article contains cannot match; leaving it out keeps the query small.
        let weighted: Vec<(String, i64)> = terms
            .iter()
            .filter_map(|t| {
                frequencies
                    .get(t)
                    .map(|df| (t.clone(), text::term_weight(documents, *df)))
            })
            .collect();
        let ranked = store::search(&mut conn, &weighted, filter, scope, after, limit).await?;
        let ids: Vec<String> = ranked.iter().map(|(id, _)| id.clone()).collect();
        let articles = store::find_all::<ArticleRecord>(&mut conn, &ids).await?;
        let mut views = self.with_revisions(&mut conn, articles).await?;
        let mut hits = Vec::with_capacity(ranked.len());
        for (id, score) in ranked {
            if let Some(position) = views.iter().position(|v| v.article.id == id) {
                let view = views.swap_remove(position);
                let content = &view.revision.content;
                let body = if content.summary.is_empty() {
                    content.body.clone()
                } else {
                    format!("{}\n{}", content.summary, content.body)
                };
                let snippet = text::snippet(&view.revision.content.title, &body, terms);
                hits.push(Hit {
                    view,
                    snippet,
                    score,
                });
            }
        }
        Ok(hits)
    }

    /// Published articles for a ticket's text: its rarest (most telling) terms are the query.
    pub async fn suggest(
        &self,
        scope: Scope,
        text: &str,
        locale: Option<String>,
        limit: usize,
    ) -> Result<Vec<Hit>, ServiceError> {
        let mut seen = std::collections::HashSet::new();
        let candidates: Vec<String> = text::tokenize(text)
            .into_iter()
            .filter_map(|t| seen.insert(t.term.clone()).then_some(t.term))
            .take(500)
            .collect();
        let (documents, frequencies) =
            store::term_statistics(&mut *self.ctx.db.read().await?, &candidates).await?;
        let mut telling: Vec<(String, i64)> = frequencies
            .into_iter()
            .map(|(t, df)| (t, text::term_weight(documents, df)))
            .collect();
        telling.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        let terms: Vec<String> = telling
            .into_iter()
            .take(text::MAX_QUERY_TERMS)
            .map(|(t, _)| t)
            .collect();
        let filter = ArticleFilter {
            locale,
            state: Some(ArticleState::Published),
            ..Default::default()
        };
        self.search(scope, &terms, &filter, None, limit).await
    }
}
