//! The program's public pages (issue #9): what the program is, how it differs from government
//! schemes, its methodologies, and the questions companies and farmers ask, each in English and
//! Japanese, editable by operators. Content, not registry state: it bypasses the sequencer and
//! the log; who changed an entry and when is kept on the entry and in the security audit trail.

use furrow_domain::Timestamp;

/// One editable piece of the program's pages: a text block (heading and body) or a question
/// with its answer, in both languages, so neither language can lack it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProgramEntry {
    /// Chosen by the caller when seeding; stable, so edits keep their place.
    pub id: u64,
    /// Where the entry belongs (`about`, `companies`, `farmers`, or `page` for text blocks).
    pub section: String,
    /// Order within the pages (lower first).
    pub position: u32,
    pub title_en: String,
    pub body_en: String,
    pub title_ja: String,
    pub body_ja: String,
    /// Who wrote this version: a subject as in the log (`user-3`), or `system` for the seed.
    pub updated_by: String,
    pub updated_at: Timestamp,
}
