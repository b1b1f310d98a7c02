//! The program's public pages (issue #9): what the program is, how it differs from government
//! schemes, its methodologies, and the questions companies and farmers ask (the topics of the
//! program's original FAQ, `shared/seed/`), in English and Japanese. The store keeps them; the
//! first read of an empty store seeds them from the built-in content below, and program staff
//! edit them from then on. Every edit is in the security audit trail.

use furrow_domain::Timestamp;
use furrow_store::ProgramEntry;

use crate::{AppError, Principal, Registry};

/// The sections of the pages, in the order they are shown: text blocks first, then the
/// questions about the program, for companies and for farmers.
pub const SECTIONS: [&str; 4] = ["page", "about", "companies", "farmers"];

const MAX_TITLE: usize = 300;
const MAX_BODY: usize = 8000;

/// New texts for one entry, as an editor sends them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProgramTexts {
    pub title_en: String,
    pub body_en: String,
    pub title_ja: String,
    pub body_ja: String,
}

/// Id, section, position, then English title and body, Japanese title and body: both languages
/// side by side, so neither can lack an entry.
type Builtin = (u64, &'static str, u32, &'static str, &'static str, &'static str, &'static str);

const BUILTIN: &[Builtin] = &[
    (
        1,
        "page",
        10,
        "What the program is",
        "A private-sector, voluntary carbon-offset program for agriculture. Projects follow the program's methodologies; verified reductions become serialized credits that companies buy and retire here, in public.\n\nEvery credit sold is retired in this registry, so it can never be counted twice, and the farmers whose fields produced it receive the sale's proceeds minus a disclosed commission.",
        "制度の概要",
        "農業分野に特化した、民間主導のボランタリー・カーボンオフセット制度です。プロジェクトは制度の方法論に従い、検証された削減量は通し番号付きのクレジットとなり、企業がこの登録簿で購入・償却します。\n\n販売されたクレジットはすべてこの登録簿で償却されるため、二重に計上されることはありません。クレジットを生み出した圃場の農家は、開示された手数料を差し引いた販売代金を受け取ります。",
    ),
    (
        2,
        "page",
        20,
        "How it differs from government schemes",
        "J-Credit is a government-led certification scheme; this program is led by the private sector and runs from project development through credit generation to sale as one service.\n\nIt is designed for agriculture only, aims to be usable internationally as well as in Japan, and tracks the ecological impact of each project (soil, biodiversity, water) beside its emission reductions: the short-term and the long-term effect together.",
        "政府の制度との違い",
        "J-クレジットは政府主導の認証制度ですが、この制度は民間主導で、プロジェクト開発からクレジットの創出・販売までを一貫したサービスとして行います。\n\n農業分野に特化し、国内だけでなく国際的な活用を目指し、各プロジェクトの排出削減量とあわせて生態系への影響（土壌・生物多様性・水）を追跡します。短期的な効果と長期的な効果を同時に示します。",
    ),
    (
        3,
        "page",
        30,
        "Its methodologies",
        "A methodology sets the rules for one practice: who is eligible, what is monitored, how reductions are quantified, which deductions apply (uncertainty, leakage, the buffer pool) and which ecological indicators are recorded. An approved version never changes; each project follows one.\n\nEvery methodology, with its parameters and their sources, is published on the methodologies page.",
        "方法論",
        "方法論は、一つの取り組みについての規則を定めます。対象となる条件、モニタリング項目、削減量の算定方法、控除（不確実性・リーケージ・バッファプール）、記録する生態系指標です。承認された版は変更されず、各プロジェクトはいずれか一つの方法論に従います。\n\nすべての方法論は、パラメータとその出典とともに「方法論」ページで公開しています。",
    ),
    (
        11,
        "about",
        110,
        "What does the program provide?",
        "A voluntary carbon-offset program for agriculture. Projects developed under its methodologies generate credits; companies buy them to offset emissions, and every credit sold is retired in this public registry.",
        "この制度は何を提供しますか？",
        "農業分野のボランタリー・カーボンオフセット制度です。方法論に沿って実施されたプロジェクトがクレジットを生み出し、企業が排出量のオフセットのために購入します。販売されたクレジットはすべてこの公開登録簿で償却されます。",
    ),
    (
        12,
        "about",
        120,
        "How is it different from J-Credit?",
        "J-Credit is a government-led scheme; this program is led by the private sector and runs from project development to credit sales in one service. It is designed for agriculture, aims to be usable internationally, and tracks ecological impact alongside emission reductions.",
        "J-クレジットとの違いは？",
        "J-クレジットは政府主導の制度ですが、この制度は民間主導で、プロジェクト開発からクレジット販売までを一貫して行います。農業に特化し、国際的な活用を目指し、排出削減量とあわせて生態系への影響も追跡します。",
    ),
    (
        13,
        "about",
        130,
        "What does tracking ecological impact mean?",
        "Monitoring reports record ecological indicators (for example frogs and dragonflies in paddies, or soil health) beside the emission reductions, so a credit shows both its short-term and its long-term effect.",
        "生態系への影響の追跡とは？",
        "モニタリング報告では、排出削減量とあわせて生態系の指標（水田のカエルやトンボ、土壌の健全性など）を記録し、クレジットの短期的・長期的な効果の両方を示します。",
    ),
    (
        14,
        "about",
        140,
        "What is the registry?",
        "This site: it records every credit issued, transferred, retired or cancelled, with serial numbers, in a signed log that anyone can verify.",
        "登録簿とは？",
        "このサイトです。発行・移転・償却・取消されたすべてのクレジットを通し番号付きで記録し、誰でも検証できる署名付きログに残します。",
    ),
    (
        21,
        "companies",
        210,
        "What are voluntary carbon credits?",
        "Certified reductions or removals of greenhouse gases, one tonne of CO₂e each, that a company buys of its own accord to offset emissions it cannot yet avoid.",
        "ボランタリー・カーボンクレジットとは？",
        "温室効果ガスの削減量・除去量を認証したもので、1クレジットはCO₂換算1トンです。企業が自主的に購入し、まだ削減できない排出量をオフセットします。",
    ),
    (
        22,
        "companies",
        220,
        "Why offset if we already reduce our own emissions?",
        "Reducing your own emissions comes first. Offsetting covers what remains and finances reductions elsewhere, here on farms.",
        "自社で削減しているのに、なぜオフセットが必要なのですか？",
        "自社の排出削減が最優先です。オフセットは削減しきれない分を補い、他の場所（ここでは農場）での削減を資金面で支えます。",
    ),
    (
        23,
        "companies",
        230,
        "How is the price of credits determined?",
        "Prices are set per project and vintage and disclosed with each sale, together with the share that goes to farmers.",
        "クレジットの価格はどのように決まりますか？",
        "価格はプロジェクトとヴィンテージごとに設定され、農家への配分とともに販売ごとに開示されます。",
    ),
    (
        24,
        "companies",
        240,
        "How is double counting avoided?",
        "Every credit has a unique serial number and can be retired once only; retirements are public and each one is provable from the signed log.",
        "二重計上はどのように防がれますか？",
        "すべてのクレジットには固有の通し番号があり、償却は一度しかできません。償却は公開され、署名付きログから証明できます。",
    ),
    (
        25,
        "companies",
        250,
        "Are refunds possible?",
        "A retired credit cannot be un-retired. Before retirement, refunds follow the terms of sale.",
        "返金はできますか？",
        "償却済みのクレジットを元に戻すことはできません。償却前の返金は販売条件に従います。",
    ),
    (
        31,
        "farmers",
        310,
        "What is the difference between the program and a project?",
        "The program sets the rules and methodologies; a project applies one methodology in one region, and farmers take part in a project with their fields.",
        "制度とプロジェクトの違いは？",
        "制度は規則と方法論を定めます。プロジェクトは特定の地域で一つの方法論を適用するもので、農家は自分の圃場でプロジェクトに参加します。",
    ),
    (
        32,
        "farmers",
        320,
        "When and how will I be paid?",
        "After credits from your fields are verified, issued and sold, your share is paid out; each payout is itemised in your statement.",
        "いつ、どのように支払われますか？",
        "圃場から生まれたクレジットが検証・発行・販売された後、あなたの取り分が支払われます。支払いは明細に記載されます。",
    ),
    (
        33,
        "farmers",
        330,
        "How can I participate?",
        "Projects and their start dates vary: see the projects open for participation on the join page and contact the operator.",
        "どうすれば参加できますか？",
        "募集中のプロジェクトと開始日は異なります。「参加する」ページで募集中のプロジェクトを確認し、運営者にご連絡ください。",
    ),
    (
        34,
        "farmers",
        340,
        "Can I withdraw before the end of the contract?",
        "Yes, on the program's recognised grounds; the operator decides a withdrawal request, and from its effective date your fields earn no further credits.",
        "契約期間の途中で退会できますか？",
        "はい、制度が認める理由があれば可能です。運営者が退会申請を判断し、その発効日以降は圃場からクレジットは生まれません。",
    ),
];

/// The built-in content, as the store's first entries (written by the program itself).
pub fn builtin(at: Timestamp) -> Vec<ProgramEntry> {
    BUILTIN
        .iter()
        .map(|(id, section, position, title_en, body_en, title_ja, body_ja)| ProgramEntry {
            id: *id,
            section: (*section).to_owned(),
            position: *position,
            title_en: (*title_en).to_owned(),
            body_en: (*body_en).to_owned(),
            title_ja: (*title_ja).to_owned(),
            body_ja: (*body_ja).to_owned(),
            updated_by: furrow_domain::invariants::SYSTEM_ACTOR.to_owned(),
            updated_at: at,
        })
        .collect()
}

/// Who may edit the program's pages: program staff (operators, and admins who configure the
/// program). Everyone reads them.
pub fn may_edit(principal: &Principal) -> bool {
    matches!(principal.role, furrow_domain::Role::Operator | furrow_domain::Role::Admin)
}

/// Trims a text, writes line ends as `\n`, and checks its length and characters.
fn clean(what: &str, text: &str, max: usize, lines: bool) -> Result<String, AppError> {
    let text = text.replace("\r\n", "\n").replace('\r', "\n");
    let text = text.trim();
    if text.is_empty() {
        return Err(AppError::Invalid(format!("the {what} is empty")));
    }
    if text.chars().count() > max {
        return Err(AppError::Invalid(format!("the {what} is longer than {max} characters")));
    }
    if text.chars().any(|c| c.is_control() && !(lines && (c == '\n' || c == '\t'))) {
        let allowed = if lines { " (line breaks are fine)" } else { "" };
        return Err(AppError::Invalid(format!("the {what} contains control characters{allowed}")));
    }
    Ok(text.to_owned())
}

impl ProgramTexts {
    fn cleaned(&self) -> Result<Self, AppError> {
        Ok(Self {
            title_en: clean("English title", &self.title_en, MAX_TITLE, false)?,
            body_en: clean("English text", &self.body_en, MAX_BODY, true)?,
            title_ja: clean("Japanese title", &self.title_ja, MAX_TITLE, false)?,
            body_ja: clean("Japanese text", &self.body_ja, MAX_BODY, true)?,
        })
    }
}

impl Registry {
    /// The program's pages, by position. An empty store (a new registry, or one that predates
    /// the pages) is seeded with the built-in content first.
    pub async fn program_entries(&self) -> Result<Vec<ProgramEntry>, AppError> {
        let entries = self.store.program_entries().await?;
        if !entries.is_empty() {
            return Ok(entries);
        }
        self.store.seed_program_entries(&builtin(self.clock.now())).await?;
        Ok(self.store.program_entries().await?)
    }

    /// Adds an entry at the end of a section (program staff): a new question, or a new text
    /// block in `page`. Both languages are required. Audited (`program_page_added`).
    pub async fn add_program_entry(
        &self,
        by: &Principal,
        section: &str,
        texts: &ProgramTexts,
    ) -> Result<ProgramEntry, AppError> {
        if !may_edit(by) {
            self.audit("permission_denied", &by.subject, format!("tried to add to the program pages ({section})"))
                .await;
            return Err(AppError::Forbidden(format!("a {} cannot edit the program's pages", by.role)));
        }
        let Some(index) = SECTIONS.iter().position(|s| *s == section) else {
            return Err(AppError::Invalid(format!("{section:?} is not a section of the program's pages")));
        };
        let texts = texts.cleaned()?;
        let entries = self.program_entries().await?;
        // Sections keep their place however many entries they gain: each starts at its own
        // hundred, and a new entry goes after the section's last.
        let start = u32::try_from(index).unwrap_or(0) * 100 + 10;
        let position = entries.iter().filter(|e| e.section == section).map(|e| e.position + 10).max().unwrap_or(start);
        let mut entry = ProgramEntry {
            id: 0,
            section: section.to_owned(),
            position,
            title_en: texts.title_en,
            body_en: texts.body_en,
            title_ja: texts.title_ja,
            body_ja: texts.body_ja,
            updated_by: by.subject.clone(),
            updated_at: self.clock.now(),
        };
        entry.id = self.store.insert_program_entry(&entry).await?;
        self.audit("program_page_added", &by.subject, format!("entry {} ({section}): {}", entry.id, entry.title_en))
            .await;
        Ok(entry)
    }

    /// Replaces one entry's texts (program staff). Both languages are required. Audited
    /// (`program_page_edited`), and the entry keeps who wrote it and when.
    pub async fn edit_program_entry(
        &self,
        by: &Principal,
        id: u64,
        texts: &ProgramTexts,
    ) -> Result<ProgramEntry, AppError> {
        if !may_edit(by) {
            self.audit("permission_denied", &by.subject, format!("tried to edit program page entry {id}")).await;
            return Err(AppError::Forbidden(format!("a {} cannot edit the program's pages", by.role)));
        }
        let texts = texts.cleaned()?;
        let current = self
            .program_entries()
            .await?
            .into_iter()
            .find(|e| e.id == id)
            .ok_or_else(|| AppError::NotFound(format!("program page entry {id}")))?;
        let entry = ProgramEntry {
            title_en: texts.title_en,
            body_en: texts.body_en,
            title_ja: texts.title_ja,
            body_ja: texts.body_ja,
            updated_by: by.subject.clone(),
            updated_at: self.clock.now(),
            ..current
        };
        if !self.store.update_program_entry(&entry).await? {
            return Err(AppError::NotFound(format!("program page entry {id}")));
        }
        self.audit("program_page_edited", &by.subject, format!("entry {id} ({}): {}", entry.section, entry.title_en))
            .await;
        Ok(entry)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_builtin_content_has_both_languages_unique_ids_and_known_sections() {
        let entries = builtin(Timestamp(0));
        let mut ids: Vec<u64> = entries.iter().map(|e| e.id).collect();
        ids.sort_unstable();
        ids.dedup();
        assert_eq!(ids.len(), entries.len(), "ids are unique");
        for e in &entries {
            assert!(SECTIONS.contains(&e.section.as_str()), "{}", e.section);
            let texts = ProgramTexts {
                title_en: e.title_en.clone(),
                body_en: e.body_en.clone(),
                title_ja: e.title_ja.clone(),
                body_ja: e.body_ja.clone(),
            };
            assert_eq!(texts.cleaned().expect("valid"), texts, "entry {} is stored as an edit would be", e.id);
        }
        for section in SECTIONS {
            assert!(entries.iter().any(|e| e.section == section), "{section} has entries");
        }
    }

    #[test]
    fn texts_are_trimmed_line_ends_normalised_and_control_characters_refused() {
        assert_eq!(clean("t", "  a\r\nb \n", 10, true).expect("ok"), "a\nb");
        assert!(clean("t", "   ", 10, true).is_err());
        assert!(clean("t", "a\nb", 10, false).is_err(), "a title is one line");
        assert!(clean("t", "a\u{7}b", 10, true).is_err());
        assert!(clean("t", &"x".repeat(11), 10, true).is_err());
        assert_eq!(clean("t", &"界".repeat(10), 10, true).expect("characters, not bytes").chars().count(), 10);
    }
}
