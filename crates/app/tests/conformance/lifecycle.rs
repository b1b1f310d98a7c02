//! The program lifecycle on every backend: after a seeded run of lifecycle and credit commands,
//! the store rebuilds the same lifecycle state on load, personal data included (from
//! `log_private`), while the public log entries carry none of it; and the application's lifecycle
//! snapshot, which serves the reads, equals the model.

use furrow_app::store::Page;
use furrow_testkit::Backend;

use crate::support::start;

async fn the_lifecycle_survives_a_reload(backend: Backend) {
    let Some(fixture) = start(backend).await else { return };
    let model = fixture.run_seeded_commands(0x11fe, 1500).await;
    let lc = model.lifecycle();
    assert!(
        lc.participants.len() > 3 && lc.enrolments.len() > 3 && lc.reports.values().any(|r| r.quantification.is_some()),
        "{backend}: the run should reach verified reports: {} participants, {} enrolments, {} reports",
        lc.participants.len(),
        lc.enrolments.len(),
        lc.reports.len()
    );
    assert!(lc.requests.values().any(|r| r.batch.is_some()), "{backend}: and four-eyes issuances");

    let loaded = fixture.store.load_ledger().await.expect("load");
    assert_eq!(loaded, model, "{backend}: the reloaded state differs from the model");
    assert_eq!(*fixture.registry.lifecycle(), *lc, "{backend}: the read snapshot differs from the model");
    // Sealed values compare by commitment; the personal data itself must come back too.
    for (id, participant) in &loaded.lifecycle().participants {
        assert_eq!(participant.person.payload(), lc.participants[id].person.payload(), "{backend}: {id}");
        assert!(participant.person.data().is_some(), "{backend}: {id} lost its personal data");
    }
    for (id, parcel) in &loaded.lifecycle().parcels {
        assert_eq!(parcel.private.payload(), lc.parcels[id].private.payload(), "{backend}: {id}");
    }

    let rows = fixture.store.log_entries(Page { after: None, limit: 10_000 }).await.expect("log");
    for row in rows {
        let leaks =
            [&b"Farmer "[..], b"tel 025", b"Field "].iter().any(|s| row.bytes.windows(s.len()).any(|w| w == *s));
        assert!(!leaks, "{backend}: personal data in public entry {} ({})", row.index, row.kind);
    }
}
crate::on_every_backend!(lifecycle_reload, super::the_lifecycle_survives_a_reload);
