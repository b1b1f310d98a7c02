//! The program's pages (issue #9) behave alike on every backend: the first read seeds the
//! built-in content in both languages, seeding again keeps what is stored, an edit replaces one
//! entry's texts with who and when (and is audited), an unknown entry is not found, and only
//! program staff may edit.

use furrow_app::program::{ProgramTexts, builtin};
use furrow_app::store::Page;
use furrow_app::{AppError, Principal, Proof};
use furrow_domain::{Role, Timestamp};
use furrow_testkit::Backend;

use crate::on_every_backend;
use crate::support::start;

fn staff(subject: &str, role: Role) -> Principal {
    Principal { subject: subject.into(), role, accounts: vec![], proof: Proof::Password }
}

async fn program_pages(backend: Backend) {
    let Some(fixture) = start(backend).await else { return };
    let (registry, store) = (&fixture.registry, &fixture.store);
    assert!(store.program_entries().await.expect("read").is_empty(), "a new registry stores none yet");

    // The first read seeds the built-in content, in position order.
    let seeded = registry.program_entries().await.expect("seeded");
    let expected = builtin(Timestamp(0));
    assert_eq!(seeded.len(), expected.len());
    let ids: Vec<u64> = seeded.iter().map(|e| e.id).collect();
    let mut by_position = expected.clone();
    by_position.sort_by_key(|e| (e.position, e.id));
    assert_eq!(ids, by_position.iter().map(|e| e.id).collect::<Vec<_>>());
    for (stored, built) in seeded.iter().zip(&by_position) {
        assert_eq!(
            (&stored.title_ja, &stored.body_en, &stored.updated_by),
            (&built.title_ja, &built.body_en, &built.updated_by)
        );
    }

    // An edit, with Japanese and markup kept verbatim (pages escape it when they render).
    let texts = ProgramTexts {
        title_en: "Differences <b>now</b>".into(),
        body_en: "One.\n\nTwo.".into(),
        title_ja: "違い".into(),
        body_ja: "一つ目。\n\n二つ目。".into(),
    };
    let edited = registry.edit_program_entry(&staff("user-7", Role::Operator), 2, &texts).await.expect("edited");
    assert_eq!((edited.updated_by.as_str(), edited.section.as_str()), ("user-7", "page"));
    let stored = registry.program_entries().await.expect("read");
    let two = stored.iter().find(|e| e.id == 2).expect("entry 2");
    assert_eq!(two, &edited, "the store returns what it was given");
    assert_eq!((two.title_en.as_str(), two.body_ja.as_str()), ("Differences <b>now</b>", "一つ目。\n\n二つ目。"));

    // Seeding again changes nothing; an unknown id updates nothing.
    store.seed_program_entries(&builtin(Timestamp(1))).await.expect("seed again");
    assert_eq!(registry.program_entries().await.expect("read"), stored);
    let mut ghost = edited.clone();
    ghost.id = 999;
    assert!(!store.update_program_entry(&ghost).await.expect("update"), "no entry 999");
    let missing = registry.edit_program_entry(&staff("user-7", Role::Operator), 999, &texts).await;
    assert!(matches!(missing, Err(AppError::NotFound(_))), "{missing:?}");

    // Only program staff edit; bad texts are refused; nothing changes either way.
    for role in [Role::Verifier, Role::Buyer, Role::Participant] {
        let denied = registry.edit_program_entry(&staff("user-8", role), 2, &texts).await;
        assert!(matches!(denied, Err(AppError::Forbidden(_))), "{role}: {denied:?}");
    }
    let blank = ProgramTexts { title_ja: "  ".into(), ..texts.clone() };
    assert!(matches!(
        registry.edit_program_entry(&staff("user-7", Role::Admin), 2, &blank).await,
        Err(AppError::Invalid(_))
    ));
    assert_eq!(registry.program_entries().await.expect("read"), stored);

    // A new entry goes at the end of its section under the next id.
    let added = registry.add_program_entry(&staff("user-7", Role::Operator), "companies", &texts).await.expect("added");
    let max_id = stored.iter().map(|e| e.id).max().unwrap_or(0);
    assert_eq!(added.id, max_id + 1);
    let after = registry.program_entries().await.expect("read");
    let companies: Vec<u64> = after.iter().filter(|e| e.section == "companies").map(|e| e.id).collect();
    assert_eq!(companies.last(), Some(&added.id), "last of its section: {companies:?}");
    assert_eq!(after.iter().find(|e| e.id == added.id), Some(&added));
    let nowhere = registry.add_program_entry(&staff("user-7", Role::Operator), "gossip", &texts).await;
    assert!(matches!(nowhere, Err(AppError::Invalid(_))), "{nowhere:?}");
    let denied = registry.add_program_entry(&staff("user-8", Role::Buyer), "companies", &texts).await;
    assert!(matches!(denied, Err(AppError::Forbidden(_))), "{denied:?}");
    assert_eq!(registry.program_entries().await.expect("read"), after);

    let events = store.security_events(Page { after: None, limit: 1000 }).await.expect("events");
    let edits: Vec<_> = events.iter().filter(|e| e.kind == "program_page_edited").collect();
    assert_eq!(edits.len(), 1, "{events:?}");
    assert_eq!(edits[0].subject, "user-7");
}

on_every_backend!(program_pages_are_seeded_edited_and_audited_alike, super::program_pages);
