//! The pages' two languages: which one a request gets, the message catalogue, and how numbers,
//! dates and money are written in each. The catalogue is one table with both languages side by
//! side, so a message cannot exist in one language only; `catalogue_is_complete` checks that
//! every key a template uses is in it and that no translation is empty.

use axum::http::HeaderMap;
use axum::http::header;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lang {
    En,
    Ja,
}

/// The cookie that remembers the reader's choice.
pub const COOKIE: &str = "furrow_lang";

impl Lang {
    pub fn code(self) -> &'static str {
        match self {
            Lang::En => "en",
            Lang::Ja => "ja",
        }
    }

    pub fn parse(s: &str) -> Option<Lang> {
        match s.trim().to_ascii_lowercase().as_str() {
            "en" => Some(Lang::En),
            "ja" => Some(Lang::Ja),
            _ => None,
        }
    }

    /// The other language: the switch link offers it.
    pub fn other(self) -> Lang {
        match self {
            Lang::En => Lang::Ja,
            Lang::Ja => Lang::En,
        }
    }

    /// `?lang=` wins, then the cookie, then the best of Accept-Language, then English.
    pub fn negotiate(query: Option<&str>, headers: &HeaderMap) -> Lang {
        if let Some(lang) = query.and_then(Lang::parse) {
            return lang;
        }
        let cookie = headers
            .get_all(header::COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(';'))
            .filter_map(|pair| pair.trim().split_once('='))
            .find(|(name, _)| *name == COOKIE)
            .and_then(|(_, value)| Lang::parse(value));
        if let Some(lang) = cookie {
            return lang;
        }
        let accept = headers.get(header::ACCEPT_LANGUAGE).and_then(|v| v.to_str().ok()).unwrap_or("");
        Self::from_accept_language(accept)
    }

    /// RFC 9110 §12.5.4, for our two languages: the highest-weighted range that names one wins;
    /// ties go to the earlier range.
    pub fn from_accept_language(accept: &str) -> Lang {
        let mut best: Option<(u16, Lang)> = None;
        for range in accept.split(',') {
            let mut parts = range.split(';');
            let tag = parts.next().unwrap_or("").trim().to_ascii_lowercase();
            let weight = parts
                .filter_map(|p| p.trim().strip_prefix("q="))
                .filter_map(|q| q.trim().parse::<f32>().ok())
                .next()
                .unwrap_or(1.0);
            // Weights have at most three decimals; compare them as integers.
            let weight = (weight.clamp(0.0, 1.0) * 1000.0).round() as u16;
            let primary = tag.split('-').next().unwrap_or("");
            let Some(lang) = Lang::parse(primary) else { continue };
            if weight > 0 && best.is_none_or(|(w, _)| weight > w) {
                best = Some((weight, lang));
            }
        }
        best.map_or(Lang::En, |(_, lang)| lang)
    }

    /// A message in this language. An unknown key shows itself (and fails the catalogue test).
    pub fn t(self, key: &str) -> &'static str {
        match self.lookup(key) {
            Some(text) => text,
            None => {
                debug_assert!(false, "message key {key} is not in the catalogue");
                "?"
            }
        }
    }

    /// An integer with thousands separators (both languages group by three with commas).
    pub fn num(self, n: &u64) -> String {
        group(&n.to_string())
    }

    /// Tonnes of CO₂e: one credit is one tonne.
    pub fn tonnes(self, n: &u64) -> String {
        match self {
            Lang::En => format!("{} t CO₂e", self.num(n)),
            Lang::Ja => format!("{} t-CO₂e", self.num(n)),
        }
    }

    /// An amount of yen. Prices and payouts (issue #7) will use it; until they land, only the
    /// tests do.
    #[allow(dead_code)]
    pub fn yen(self, n: &u64) -> String {
        match self {
            Lang::En => format!("¥{}", self.num(n)),
            Lang::Ja => format!("{}円", self.num(n)),
        }
    }

    /// A calendar date given as `YYYY-MM-DD` (or the date part of an RFC 3339 time).
    pub fn date(self, iso: &str) -> String {
        let Some((y, m, d)) = split_date(iso) else { return iso.to_owned() };
        match self {
            Lang::En => format!("{d} {} {y}", MONTHS[usize::from(m) - 1]),
            Lang::Ja => format!("{y}年{m}月{d}日"),
        }
    }

    /// A moment given in RFC 3339 UTC, to the minute.
    pub fn when(self, rfc3339: &str) -> String {
        let time = rfc3339.get(11..16).filter(|t| t.as_bytes().get(2) == Some(&b':'));
        match time {
            Some(t) => format!("{} {t} UTC", self.date(rfc3339)),
            None => self.date(rfc3339),
        }
    }

    /// A message whose key is built at run time (an indicator's name), or `None` when the
    /// catalogue has none: the caller then shows the code itself.
    pub fn lookup(self, key: &str) -> Option<&'static str> {
        let (_, en, ja) = entry(key)?;
        Some(match self {
            Lang::En => en,
            Lang::Ja => ja,
        })
    }

    /// A stable code (a block state, a status, a purpose) in words.
    pub fn word(self, code: &str) -> &'static str {
        self.lookup(&format!("word.{code}")).unwrap_or("")
    }

    /// An amount of money in its currency, with its minor unit: `¥12,000` / `12,000円`,
    /// `US$1,234.50` / `1,234.50米ドル`, `€80.00` / `80.00ユーロ`.
    pub fn money(self, m: &furrow_domain::sales::Money) -> String {
        use furrow_domain::sales::Currency;
        let major = m.major().to_string();
        let (whole, cents) = major.split_once('.').map_or((major.as_str(), None), |(w, c)| (w, Some(c)));
        let n = match cents {
            Some(c) => format!("{}.{c}", group(whole)),
            None => group(whole),
        };
        match (self, m.currency) {
            (Lang::En, Currency::Jpy) => format!("¥{n}"),
            (Lang::Ja, Currency::Jpy) => format!("{n}円"),
            (Lang::En, Currency::Usd) => format!("US${n}"),
            (Lang::Ja, Currency::Usd) => format!("{n}米ドル"),
            (Lang::En, Currency::Eur) => format!("€{n}"),
            (Lang::Ja, Currency::Eur) => format!("{n}ユーロ"),
        }
    }
}

/// A message's entry: the explorer's catalogue, then the signed-in pages' own.
fn entry(key: &str) -> Option<&'static (&'static str, &'static str, &'static str)> {
    [MESSAGES, ACTING]
        .into_iter()
        .find_map(|table| table.binary_search_by(|(k, _, _)| (*k).cmp(key)).ok().map(|i| &table[i]))
}

const MONTHS: [&str; 12] = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

fn split_date(iso: &str) -> Option<(u16, u8, u8)> {
    let y = iso.get(0..4)?.parse().ok()?;
    let m: u8 = iso.get(5..7)?.parse().ok()?;
    let d: u8 = iso.get(8..10)?.parse().ok()?;
    (iso.as_bytes().get(4) == Some(&b'-') && (1..=12).contains(&m) && (1..=31).contains(&d)).then_some((y, m, d))
}

fn group(digits: &str) -> String {
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// Key, English, Japanese; sorted by key (the lookup is a binary search; a test checks the order).
pub const MESSAGES: &[(&str, &str, &str)] = &[
    ("batch.buffer", "Of which to the buffer pool", "うちバッファプールへ"),
    ("batch.ecology", "Ecological score of its monitoring period", "モニタリング期間の生態系スコア"),
    ("batch.issued", "Issued", "発行量"),
    ("batch.issued_at", "Issued on", "発行日"),
    ("batch.labels", "Labels", "ラベル"),
    ("batch.origin", "Origin", "由来"),
    ("batch.report", "Issued from report", "発行元の報告"),
    ("batch.serials", "Serial range", "シリアル範囲"),
    ("batch.supply", "Supply by state", "状態別の内訳"),
    ("batch.title", "Batch", "バッチ"),
    ("batch.vintage", "Vintage", "ヴィンテージ"),
    (
        "batches.intro",
        "Every batch of credits issued, with where its credits are now.",
        "発行されたすべてのクレジットバッチと、その現在の状態です。",
    ),
    ("batches.title", "Batches", "バッチ"),
    ("cert.confidential", "The sale is confidential; the batch's aggregates:", "この販売は非公開です。バッチの集計："),
    ("cert.credits", "credits", "クレジット"),
    ("cert.credits_retired", "Credits retired", "償却済みクレジット"),
    ("cert.ecology", "Ecological score", "生態系スコア"),
    (
        "cert.footer",
        "Retired credits can never be transferred, retired again or refunded. Machine-readable certificate with the entry bytes:",
        "償却されたクレジットは、移転・再償却・返金できません。エントリのバイト列を含む機械可読の証明書：",
    ),
    ("cert.full_stop", ".", "。"),
    ("cert.log_entry", "Log entry", "ログエントリ"),
    ("cert.methodology", "Methodology", "方法論"),
    ("cert.no_sale", "Retired directly by the holder; no sale.", "保有者が直接償却しました（販売なし）。"),
    (
        "cert.not_scored",
        "Not scored: the batch was not issued from a monitoring report",
        "スコアなし：このバッチはモニタリング報告から発行されていません",
    ),
    ("cert.pending", "pending", "保留中"),
    ("cert.price", "Price disclosure", "価格の開示"),
    ("cert.project", "Project", "プロジェクト"),
    ("cert.proof", "Inclusion proof", "包含証明"),
    (
        "cert.proof_next",
        "The next signed checkpoint will include this entry; reload shortly.",
        "次の署名付きチェックポイントにこのエントリが含まれます。しばらくしてから再読み込みしてください。",
    ),
    (
        "cert.proof_not_yet",
        "Not yet in a signed checkpoint; reload shortly.",
        "まだ署名付きチェックポイントに含まれていません。しばらくしてから再読み込みしてください。",
    ),
    (
        "cert.proof_text",
        "The bundle below (C2SP tlog-proof@v1) proves that this retirement is in the registry's signed, append-only log; furrow verify checks it offline with the program's public key.",
        "下のバンドル（C2SP tlog-proof@v1）は、この償却が登録簿の署名付き・追記専用のログに含まれることを証明します。furrow verify がプログラムの公開鍵を使ってオフラインで検証します。",
    ),
    ("cert.record", "Public record", "公開記録"),
    ("cert.retired_at", "Retired at", "償却日時"),
    ("cert.scan", "Scan for the public record", "読み取ると公開記録を表示します"),
    (
        "cert.subtitle",
        "Verified carbon credits retired on the program's public registry",
        "プログラムの公開登録簿で償却された、検証済みのカーボンクレジット",
    ),
    ("cert.title", "Certificate of Retirement", "償却証明書"),
    ("cert.vintage_batch", "Vintage / batch", "ヴィンテージ／バッチ"),
    ("common.account", "Account", "口座"),
    ("common.all", "All", "すべて"),
    ("common.country", "Country", "国"),
    ("common.download", "Download", "ダウンロード"),
    ("common.filter", "Filter", "絞り込む"),
    ("common.id", "ID", "ID"),
    ("common.next", "Next page", "次のページ"),
    ("common.none", "Nothing here yet.", "まだありません。"),
    ("common.project", "Project", "プロジェクト"),
    ("common.quantity", "Quantity", "数量"),
    ("common.region", "Region", "地域"),
    ("common.search", "Search", "検索"),
    ("common.state", "State", "状態"),
    ("common.status", "Status", "ステータス"),
    ("common.total", "Total", "合計"),
    ("common.when", "When", "日時"),
    ("ecology.biodiversity", "Biodiversity", "生物多様性"),
    ("ecology.categories", "By category", "分野別"),
    (
        "ecology.chart_alt",
        "Chart of the indicator over the verified monitoring periods",
        "検証済みモニタリング期間ごとの指標の推移グラフ",
    ),
    ("ecology.charts", "Indicators over time", "指標の推移"),
    (
        "ecology.charts_note",
        "Each chart shows, per verified monitoring period, the mean of the parcels' values (line), their range (bar), the expected range (grey lines) and, where the indicator has one, the good band (green).",
        "各グラフは、検証済みモニタリング期間ごとに、圃場の値の平均（線）、その範囲（棒）、想定範囲（灰色の線）、良好帯がある指標ではその帯（緑）を示します。",
    ),
    ("ecology.indicator", "Indicator", "指標"),
    ("ecology.mean", "Mean", "平均"),
    (
        "ecology.no_score",
        "Not scored: no indicator of the catalogue was measured.",
        "未評価：カタログの指標が測定されていません。",
    ),
    (
        "ecology.none",
        "No verified monitoring period with ecological indicators yet.",
        "生態系指標を含む検証済みのモニタリング期間はまだありません。",
    ),
    (
        "ecology.out_of_range",
        "Values outside the expected range (scored at its edge)",
        "想定範囲外の値（範囲の端の値で採点）",
    ),
    ("ecology.parcels", "Parcels", "圃場"),
    ("ecology.period", "Monitoring period", "モニタリング期間"),
    ("ecology.practice", "Practices", "取り組み"),
    (
        "ecology.project_score",
        "Project score (mean of its verified periods)",
        "プロジェクトのスコア（検証済み期間の平均）",
    ),
    ("ecology.range", "Expected range", "想定範囲"),
    ("ecology.score", "Ecological score", "生態系スコア"),
    (
        "ecology.score_note",
        "0–100. Each value scores on its indicator's expected range; an indicator's values average into its score, indicators into their category, and the categories measured into the period's score.",
        "0〜100。各値を指標の想定範囲で採点し、値の平均を指標のスコア、指標の平均を分野のスコア、測定された分野の平均を期間のスコアとします。",
    ),
    ("ecology.soil", "Soil health", "土壌の健全性"),
    ("ecology.title", "Ecological impact", "生態系への影響"),
    ("ecology.trade_drainage", "Long drainage without a refuge ditch", "退避溝のない長期の中干し"),
    (
        "ecology.trade_drainage_text",
        "Mid-season drainage of 14 days or more without a refuge ditch: tadpoles that have not yet metamorphosed die when the paddy dries (carbon gain against frog survival).",
        "退避溝（江）がないまま中干しが14日以上続いています。変態前のオタマジャクシは水田が乾くと死んでしまいます（炭素削減とカエルの生存のトレードオフ）。",
    ),
    ("ecology.trade_offs", "Trade-offs", "トレードオフ"),
    (
        "ecology.trade_offs_note",
        "Flags, never deductions: they show where a practice may harm another ecological or climate goal.",
        "控除ではなく注意表示です。ある取り組みが他の生態系や気候の目標を損なうおそれのある箇所を示します。",
    ),
    ("ecology.trade_winter", "Winter flooding raises methane", "冬期湛水によるメタン増加"),
    (
        "ecology.trade_winter_text",
        "Winter flooding keeps the soil anaerobic, which raises the next season's methane emissions (habitat for waterbirds against methane).",
        "冬期湛水は土壌を嫌気状態に保つため、翌作期のメタン排出が増えます（水鳥の生息地とメタンのトレードオフ）。",
    ),
    ("ecology.unscored", "Recorded, not in the catalogue, not scored", "記録済み・カタログ外のため採点対象外"),
    ("ecology.unverified_range", "range unverified", "範囲は未検証"),
    ("ecology.values", "Values", "値の数"),
    ("ecology.water", "Water", "水"),
    ("error.not_found", "Not found", "見つかりません"),
    ("error.title", "Something is not right", "問題が発生しました"),
    (
        "exports.intro",
        "Open data: everything on these pages, as files. CSV and JSON are streamed; the OffsetsDB layout is the harmonised one aggregators read.",
        "オープンデータ：このサイトの内容をファイルで提供します。CSVとJSONはストリーミングで配信され、OffsetsDB形式は集計サイトが読み込む共通形式です。",
    ),
    ("exports.offsetsdb", "Harmonised OffsetsDB layout", "OffsetsDB共通形式"),
    ("exports.title", "Downloads", "ダウンロード"),
    ("feed.title", "Change feed", "変更フィード"),
    ("footer.api", "JSON API", "JSON API"),
    ("footer.feed", "Change feed (Atom, JSON)", "変更フィード（Atom・JSON）"),
    (
        "footer.note",
        "Every change to this registry is an entry in a signed, append-only log.",
        "この登録簿へのすべての変更は、署名付きの追記専用ログに記録されます。",
    ),
    ("history.actor", "By", "実行者"),
    ("history.entry", "Log entry", "ログエントリ"),
    ("history.kind", "What happened", "内容"),
    ("history.title", "History", "履歴"),
    ("home.buffer", "In the buffer pool", "バッファプール"),
    ("home.farmers_paid", "Paid to farmers", "農家への支払額"),
    ("home.farmers_paid_none", "Sales and payouts are not recorded yet.", "販売と支払いはまだ記録されていません。"),
    (
        "home.intro",
        "The public registry of an agricultural carbon-offset program: every credit, where it is, and who retired it.",
        "農業分野のカーボンオフセット制度の公開登録簿です。すべてのクレジットの所在と、誰が償却したかを公開しています。",
    ),
    ("home.issued", "Credits issued", "発行済みクレジット"),
    ("home.lookup", "Look up a serial number", "シリアル番号を調べる"),
    ("home.retired", "Credits retired", "償却済みクレジット"),
    ("home.title", "Registry", "登録簿"),
    ("home.tradable", "Tradable", "取引可能"),
    ("indicator.available_n", "Available nitrogen", "可給態窒素"),
    ("indicator.available_p", "Available phosphate", "可給態リン酸"),
    ("indicator.biotope", "Biotope", "ビオトープ"),
    ("indicator.bulk_density", "Bulk density", "仮比重"),
    ("indicator.dragonfly_count", "Dragonflies", "トンボ類"),
    ("indicator.drainage_days", "Drainage days", "中干し日数"),
    ("indicator.fish_ladder", "Fish ladder", "水田魚道"),
    ("indicator.frog_count", "Frogs", "カエル類"),
    ("indicator.irrigation_volume", "Irrigation volume", "灌漑水量"),
    ("indicator.nitrate", "Nitrate in drainage water", "排水の硝酸態窒素"),
    ("indicator.ph", "Soil pH", "土壌pH"),
    ("indicator.refuge_ditch", "Refuge ditch", "江（退避溝）"),
    ("indicator.soc_pct", "Soil organic carbon", "土壌有機炭素"),
    ("indicator.spider_count", "Spiders", "クモ類"),
    ("indicator.winter_flooding", "Winter flooding", "冬期湛水"),
    ("join.apply", "How to apply", "申し込み方法"),
    (
        "join.apply_text",
        "Applications are made through the program operator, who registers your fields and enrols them in the project. Contact the operator with the project code.",
        "申し込みは制度の運営者を通じて行います。運営者が圃場を登録し、プロジェクトに参加登録します。プロジェクトコードを添えて運営者にご連絡ください。",
    ),
    ("join.conditions", "Conditions", "条件"),
    (
        "join.intro",
        "Projects that take new farmers now, with when applications open and when participation starts.",
        "現在新たな農家を募集しているプロジェクトと、受付開始日・参加開始日です。",
    ),
    (
        "join.none",
        "No project takes new participants at the moment.",
        "現在参加者を募集しているプロジェクトはありません。",
    ),
    ("join.opens", "Applications from", "受付開始"),
    ("join.starts", "Participation starts", "参加開始"),
    ("join.title", "Join a project", "プロジェクトに参加する"),
    ("lang.switch", "日本語", "English"),
    ("me.accounts", "Accounts", "口座"),
    ("me.actor", "Your actions appear in the public log as", "公開ログ上のあなたの記録名"),
    ("me.none", "None: you act for the whole program", "なし（プログラム全体として操作します）"),
    ("me.organisation", "Organisation", "組織"),
    ("me.role", "Role", "役割"),
    ("me.session", "Signed in", "サインイン日時"),
    ("me.signout", "Sign out", "サインアウト"),
    ("me.title", "My account", "マイアカウント"),
    ("me.totp", "Two-step sign-in (TOTP)", "2段階認証（TOTP）"),
    (
        "me.totp_done",
        "Two-step sign-in is on. It applies from your next sign-in.",
        "2段階認証を有効にしました。次回のサインインから適用されます。",
    ),
    ("me.totp_enrol", "Set up an authenticator app", "認証アプリを設定する"),
    (
        "me.totp_off",
        "Off. Approving issuance, cancellations and role grants needs it.",
        "無効。発行・取消・権限付与の承認には2段階認証が必要です。",
    ),
    (
        "me.totp_on",
        "On: you sign in with a code from your authenticator app.",
        "有効：認証アプリのコードを使ってサインインします。",
    ),
    (
        "methodologies.intro",
        "The rules each project follows to quantify its reductions, with the parameters and their sources.",
        "各プロジェクトが削減量を算定する際の規則と、そのパラメータです。",
    ),
    ("methodologies.title", "Methodologies", "方法論"),
    ("methodology.deductions", "Deductions", "控除"),
    ("methodology.engine", "Quantification engine", "算定エンジン"),
    ("methodology.gwp", "Global warming potentials", "地球温暖化係数"),
    ("methodology.indicators", "Ecological indicators", "生態系指標"),
    ("methodology.leakage", "Leakage", "リーケージ"),
    ("methodology.parameter", "Parameter", "パラメータ"),
    ("methodology.parameters", "Parameter table", "パラメータ表"),
    ("methodology.uncertainty", "Uncertainty", "不確実性"),
    (
        "methodology.unverified_engine",
        "Illustrative parameters, not checked against a reference table",
        "参照表で確認されていない例示的なパラメータ",
    ),
    ("methodology.value", "Value", "値"),
    ("methodology.verification", "Verification status", "検証状況"),
    ("methodology.version", "Version", "バージョン"),
    ("nav.batches", "Batches", "バッチ"),
    ("nav.downloads", "Downloads", "ダウンロード"),
    ("nav.home", "Home", "ホーム"),
    ("nav.join", "Join a project", "参加する"),
    ("nav.main", "Main", "メイン"),
    ("nav.me", "My account", "マイアカウント"),
    ("nav.methodologies", "Methodologies", "方法論"),
    ("nav.program", "The program", "制度について"),
    ("nav.projects", "Projects", "プロジェクト"),
    ("nav.retirements", "Retirements", "償却"),
    ("nav.serials", "Serial lookup", "シリアル検索"),
    ("nav.signin", "Sign in", "サインイン"),
    ("nav.skip", "Skip to content", "本文へ移動"),
    ("nav.transparency", "Transparency", "透明性"),
    ("program.faq", "Questions and answers", "よくある質問"),
    ("program.for_companies", "For companies", "企業の方へ"),
    ("program.for_farmers", "For farmers", "農家の方へ"),
    ("program.title", "The program", "制度について"),
    ("project.area", "Area (ha)", "面積（ha）"),
    ("project.batches", "Batches", "バッチ"),
    ("project.cell", "Grid cell", "グリッド"),
    ("project.crediting", "Crediting period", "クレジット期間"),
    ("project.methodology", "Methodology", "方法論"),
    ("project.municipality", "Municipality", "市町村"),
    ("project.parcels", "Parcels (generalised locations)", "圃場（おおよその位置）"),
    (
        "project.parcels_note",
        "Locations are shown as 0.1° grid cells; farmers' names and field boundaries are never published.",
        "位置は0.1°のグリッドで表示します。農家の氏名や圃場の境界は公開しません。",
    ),
    ("project.period", "Period", "期間"),
    ("project.prefecture", "Prefecture", "都道府県"),
    ("project.reductions", "Net reductions", "正味削減量"),
    ("project.reports", "Monitoring reports", "モニタリング報告"),
    ("projects.intro", "Every project registered in the program.", "制度に登録されたすべてのプロジェクトです。"),
    ("projects.name", "Name", "名称"),
    ("projects.title", "Projects", "プロジェクト"),
    ("report.caveats", "Parameters not verified against a primary source", "一次資料で検証されていないパラメータ"),
    ("report.contribution", "Contribution of the parcel", "圃場の寄与量"),
    ("report.deductions", "Deductions", "控除"),
    ("report.engine", "Engine and version", "算定エンジンとバージョン"),
    ("report.explanation", "How the reductions were calculated", "削減量の計算方法"),
    (
        "report.explanation_note",
        "Recomputed now from the stored inputs by the same code as the API's explanation. Every intermediate value has its name, unit and source; a parameter not verified against a primary source is marked.",
        "保存された入力から、APIの説明と同じコードで今回再計算したものです。すべての中間値に名前・単位・出典があり、一次資料で検証されていないパラメータには印を付けています。",
    ),
    ("report.frozen", "Frozen result", "確定した結果"),
    (
        "report.frozen_none",
        "Not frozen yet: the result is frozen when a verifier verifies the report.",
        "未確定：検証機関が報告を検証したときに結果が確定します。",
    ),
    ("report.inputs", "Inputs", "入力値"),
    ("report.inputs_hash", "Inputs hash (SHA-256)", "入力のハッシュ（SHA-256）"),
    ("report.matches", "The recomputation equals the frozen result.", "再計算の結果は確定した結果と一致します。"),
    (
        "report.mismatch",
        "The recomputation differs from the frozen result.",
        "再計算の結果が確定した結果と一致しません。",
    ),
    ("report.parameters_version", "Parameter table version", "パラメータ表のバージョン"),
    ("report.parcel", "Parcel", "圃場"),
    ("report.problem", "The calculation could not be recomputed", "計算を再現できませんでした"),
    ("report.secondary", "unverified: single source", "未検証：単一出典"),
    ("report.source", "Source", "出典"),
    ("report.step", "Step", "項目"),
    ("report.title", "Monitoring report", "モニタリング報告"),
    ("report.totals", "Totals for the report", "報告全体の合計"),
    ("report.unit", "Unit", "単位"),
    ("report.unverified", "unverified", "未検証"),
    ("report.value", "Value", "値"),
    ("retirement.beneficiary", "Beneficiary", "受益者"),
    ("retirement.certificate", "Certificate", "証明書"),
    ("retirement.claim_period", "Claim period", "主張期間"),
    ("retirement.jurisdiction", "Jurisdiction", "管轄"),
    ("retirement.note", "Note", "備考"),
    ("retirement.purpose", "Purpose", "目的"),
    ("retirement.serials", "Serials", "シリアル"),
    ("retirement.title", "Retirement", "償却"),
    (
        "retirements.intro",
        "Every retirement, with its beneficiary and purpose.",
        "すべての償却と、その受益者・目的です。",
    ),
    ("retirements.newest", "Newest first", "新しい順"),
    ("retirements.oldest", "Oldest first", "古い順"),
    ("retirements.search", "Beneficiary contains", "受益者名で検索"),
    ("retirements.sort", "Order", "並び順"),
    ("retirements.title", "Retirements", "償却"),
    // --- review queues and the program editor (issue #9) ---
    ("review.add", "Add an entry", "項目を追加"),
    ("review.approve", "Approve", "承認する"),
    ("review.body_en", "Text (English)", "本文（英語）"),
    ("review.body_ja", "Text (Japanese)", "本文（日本語）"),
    ("review.cancellation", "Cancellation request", "取消申請"),
    ("review.cancellations", "Cancellations awaiting approval", "承認待ちの取消"),
    ("review.claim", "Buyer's claim", "購入者の主張"),
    ("review.confidential", "Keep the price confidential", "価格を非公開にする"),
    ("review.credits_buffer", "Credits to cancel from the buffer pool", "バッファプールから取り消すクレジット"),
    (
        "review.done_approved",
        "Approved. The change is in the public log.",
        "承認しました。変更は公開ログに記録されています。",
    ),
    ("review.done_refused", "The request was refused.", "申請を却下しました。"),
    ("review.done_returned", "The report was returned to the operator.", "報告を運営者に差し戻しました。"),
    (
        "review.done_saved",
        "Saved. The program page shows the new text.",
        "保存しました。制度のページに新しい文章が表示されます。",
    ),
    (
        "review.done_settled",
        "Settled: the credits are retired for the buyer's beneficiary and the payouts are due.",
        "決済しました。クレジットは購入者の受益者のために償却され、支払いが確定しました。",
    ),
    ("review.done_verified", "Verified. The report's result is frozen.", "検証しました。報告の結果が確定しました。"),
    ("review.edit", "Edit", "編集"),
    ("review.effective", "Effective from", "発効日"),
    ("review.empty", "Nothing is waiting.", "待機中の項目はありません。"),
    ("review.entry", "Entry", "項目"),
    ("review.escrow_until", "Escrowed until", "エスクロー期限"),
    ("review.evidence", "evidence files", "証拠ファイル"),
    ("review.ground", "Ground", "理由"),
    (
        "review.intro_admin",
        "Role grants and log key rotations asked for by another admin, waiting for a second admin's approval.",
        "他の管理者が申請した権限付与とログ鍵の更新で、2人目の管理者の承認を待っているものです。",
    ),
    (
        "review.intro_operator",
        "Items waiting for an operator: issuance requested by another operator (the requester can never approve their own), withdrawals to decide, reversals and cancellations to approve.",
        "運営者の対応を待っている項目です。他の運営者が申請した発行（申請者は自分の申請を承認できません）、退会申請の判断、取消・反転の承認があります。",
    ),
    (
        "review.intro_verifier",
        "Monitoring reports submitted on the projects assigned to you, waiting for your verification.",
        "あなたが担当するプロジェクトで提出され、検証を待っているモニタリング報告です。",
    ),
    ("review.issuance", "Issuance requests awaiting approval", "承認待ちの発行申請"),
    ("review.key_rotations", "Log key rotations awaiting a second admin", "2人目の管理者の承認を待つログ鍵の更新"),
    (
        "review.key_rotations_note",
        "Once approved, furrow key rotate on the server publishes the new key; each approval is used once.",
        "承認されると、サーバー上の furrow key rotate が新しい鍵を公開します。承認は1回ずつ使われます。",
    ),
    (
        "review.need_totp",
        "Approvals need two-step sign-in: set up an authenticator app on your account page, then sign out and sign in again with a code.",
        "承認には2段階認証が必要です。アカウントページで認証アプリを設定し、サインアウトしてからコードを使ってもう一度サインインしてください。",
    ),
    (
        "review.net",
        "Verified net reductions (the batch is its whole tonnes, buffer share included)",
        "検証済みの正味削減量（発行は整数トン分、バッファ分を含む）",
    ),
    (
        "review.no_claim",
        "Waiting for the buyer to name the beneficiary and purpose.",
        "購入者が受益者と目的を指定するのを待っています。",
    ),
    (
        "review.not_editor",
        "Only program staff (operators and admins) edit the program's pages.",
        "制度のページを編集できるのは運営スタッフ（運営者・管理者）だけです。",
    ),
    (
        "review.not_staff",
        "Review queues are for program staff and verifiers.",
        "審査キューは運営スタッフと検証機関のためのページです。",
    ),
    ("review.note", "Note", "備考"),
    (
        "review.own_request",
        "You asked for this: another person must approve it.",
        "あなたが申請したものです。別の担当者の承認が必要です。",
    ),
    ("review.parcels", "Parcels", "圃場数"),
    ("review.participant", "Participant", "参加者"),
    ("review.payment_reference", "Payment reference", "支払いの参照番号"),
    ("review.period", "Monitoring period", "モニタリング期間"),
    ("review.program", "Edit the program pages", "制度のページを編集"),
    (
        "review.program_intro",
        "The program page's texts and its questions and answers, in English and Japanese. Both languages are required. Text is shown exactly as written (no HTML); a blank line starts a new paragraph.",
        "制度のページの文章と「よくある質問」を英語と日本語で編集します。両方の言語が必要です。文章は入力したとおりに表示され（HTMLは使えません）、空行で段落が分かれます。",
    ),
    ("review.reason", "Reason", "理由"),
    ("review.refuse", "Refuse", "却下する"),
    ("review.refused", "Refused:", "実行できませんでした："),
    ("review.report", "Report", "報告"),
    ("review.reports", "Reports awaiting verification", "検証待ちの報告"),
    ("review.requested_by", "Requested by", "申請者"),
    ("review.return", "Return to the operator", "運営者に差し戻す"),
    ("review.reversals", "Reversals awaiting approval", "承認待ちの反転"),
    ("review.role_request", "Role request", "権限申請"),
    ("review.roles", "Role grants awaiting approval", "承認待ちの権限付与"),
    ("review.sales", "Sales awaiting payment", "支払い待ちの販売"),
    (
        "review.sales_note",
        "Settle a sale once the buyer's payment has arrived: its credits are retired with the claim the buyer stated, and the farmers' payouts become due.",
        "購入者の支払いが届いたら販売を決済してください。クレジットは購入者が指定した主張で償却され、農業者への支払いが確定します。",
    ),
    ("review.save", "Save", "保存する"),
    ("review.section_page", "Page texts", "ページの文章"),
    ("review.settle", "Settle: payment received", "決済する（入金確認済み）"),
    ("review.title", "Review queues", "審査キュー"),
    ("review.title_en", "Title (English)", "見出し（英語）"),
    ("review.title_ja", "Title (Japanese)", "見出し（日本語）"),
    ("review.updated", "Last changed", "最終更新"),
    ("review.user", "User", "ユーザー"),
    (
        "review.verifier_note",
        "Only the verifier assigned to a project may verify or return its reports.",
        "報告を検証・差し戻しできるのは、そのプロジェクトに割り当てられた検証機関だけです。",
    ),
    ("review.verify", "Verify", "検証する"),
    ("review.view_page", "See the program page", "制度のページを見る"),
    (
        "review.weak_session",
        "You signed in with a password only: you can read these queues, but approving needs two-step sign-in.",
        "パスワードのみでサインインしています。キューは閲覧できますが、承認には2段階認証が必要です。",
    ),
    ("review.withdrawals", "Withdrawal requests awaiting a decision", "判断待ちの退会申請"),
    ("serial.blocks", "Blocks holding these serials", "該当するブロック"),
    (
        "serial.hint",
        "A serial number such as 120001, or a printable serial or range such as AGR-JP-P0001-2025-B000001-000000001-000000010.",
        "120001のような番号、またはAGR-JP-P0001-2025-B000001-000000001-000000010のような印字形式のシリアル・範囲を入力してください。",
    ),
    ("serial.label", "Serial or range", "シリアルまたは範囲"),
    ("serial.title", "Serial lookup", "シリアル検索"),
    ("signin.code", "Authenticator code (if you set one up)", "認証アプリのコード（設定済みの場合）"),
    ("signin.email", "E-mail address", "メールアドレス"),
    (
        "signin.failed",
        "The e-mail address, password or code is wrong.",
        "メールアドレス、パスワードまたはコードが正しくありません。",
    ),
    (
        "signin.intro",
        "Program staff, verifiers, farmers and buyers sign in here. Reading the public registry needs no account.",
        "運営スタッフ・検証機関・農業者・購入者の方はこちらからサインインしてください。公開登録簿の閲覧にアカウントは不要です。",
    ),
    (
        "signin.limited",
        "Too many failed attempts. Try again in a few minutes.",
        "失敗が続いたため、しばらくサインインできません。数分後にもう一度お試しください。",
    ),
    ("signin.password", "Password", "パスワード"),
    ("signin.submit", "Sign in", "サインイン"),
    ("signin.title", "Sign in", "サインイン"),
    ("site.name", "Furrow registry", "Furrow 登録簿"),
    ("totp.code", "Code", "コード"),
    ("totp.confirm", "Turn on", "有効にする"),
    (
        "totp.intro",
        "Add this key to your authenticator app (or open the link on the device that has the app), then enter the code it shows. The key is shown only now.",
        "この鍵を認証アプリに登録し（またはアプリのある端末でリンクを開き）、表示されたコードを入力してください。鍵が表示されるのはこの一度だけです。",
    ),
    ("totp.link", "Link for the app", "アプリ用リンク"),
    ("totp.secret", "Key", "鍵"),
    ("totp.title", "Set up an authenticator app", "認証アプリの設定"),
    (
        "totp.wrong",
        "That code is not the current one. Check the app's clock and try again.",
        "コードが一致しません。アプリの時刻を確認して、もう一度お試しください。",
    ),
    ("transparency.checkpoint", "Latest checkpoint", "最新のチェックポイント"),
    (
        "transparency.intro",
        "Every change to this registry is an entry in one append-only log. The log is a Merkle tree, and the program signs its root in checkpoints. You do not have to trust the operator: anyone can check.",
        "この登録簿へのすべての変更は、1本の追記専用ログのエントリです。ログはマークルツリーで、制度はその根を署名付きチェックポイントとして公開します。運営者を信頼する必要はありません。誰でも検証できます。",
    ),
    ("transparency.key", "Verifier key", "検証鍵"),
    (
        "transparency.key_note",
        "Compare it with the key the program publishes elsewhere (its website, reports, contracts).",
        "制度が他の場所（ウェブサイト、報告書、契約書）で公開している鍵と照合してください。",
    ),
    ("transparency.limits", "What this proves, and what it does not", "証明できること・できないこと"),
    (
        "transparency.limits_1",
        "It proves the published state follows from the signed log, and that no entry was altered, dropped or reordered after it was signed.",
        "公開された状態が署名済みログから導かれること、署名後にエントリが改ざん・削除・並べ替えされていないことを証明します。",
    ),
    (
        "transparency.limits_2",
        "It cannot prove that everyone is shown the same log: compare checkpoints with other verifiers.",
        "全員に同じログが示されていることは証明できません。他の検証者とチェックポイントを照合してください。",
    ),
    (
        "transparency.limits_3",
        "It proves what the records say, not what happened in the field: that is what verifiers' reports are for.",
        "記録の内容を証明するものであり、現場で何が起きたかを証明するものではありません。それは検証機関の報告の役割です。",
    ),
    (
        "transparency.no_checkpoint",
        "No checkpoint has been published yet.",
        "チェックポイントはまだ公開されていません。",
    ),
    ("transparency.no_key", "This registry does not sign its log.", "この登録簿はログに署名していません。"),
    ("transparency.root", "Root hash", "ルートハッシュ"),
    ("transparency.size", "Log entries covered", "対象のログエントリ数"),
    ("transparency.step_audit", "Audit the live registry", "稼働中の登録簿を監査する"),
    (
        "transparency.step_audit_text",
        "This recomputes every leaf hash and the tree, checks the signature, replays every entry into a fresh ledger, checks the invariants and compares the result with what the registry publishes. Exit status 0 means nothing was found.",
        "すべての葉ハッシュとツリーを再計算し、署名を確認し、全エントリを新しい台帳に再生して不変条件を確認し、公開内容と比較します。終了ステータス0は問題がないことを意味します。",
    ),
    ("transparency.step_offline", "Audit an offline copy", "オフラインのコピーを監査する"),
    ("transparency.step_one", "Verify one retirement", "1件の償却を検証する"),
    (
        "transparency.step_one_text",
        "A certificate carries the retirement, its log entry and an inclusion proof with a signed checkpoint. It verifies without contacting the registry.",
        "証明書には償却内容、そのログエントリ、署名付きチェックポイントと包含証明が含まれます。登録簿に接続せずに検証できます。",
    ),
    ("transparency.title", "How to verify", "検証の方法"),
    ("word.admin", "Administrator", "管理者"),
    ("word.approved", "Approved", "承認済み"),
    ("word.batch_issued", "Issued", "発行"),
    ("word.buffer", "Buffer", "バッファ"),
    ("word.buyer", "Buyer", "購入者"),
    ("word.cancelled", "Cancelled", "取消"),
    ("word.completed", "Completed", "完了"),
    ("word.corsia", "CORSIA", "CORSIA"),
    ("word.deprecated", "Deprecated", "廃止"),
    ("word.draft", "Draft", "草案"),
    ("word.escrowed", "Escrowed", "エスクロー"),
    ("word.operator", "Operator", "運営者"),
    ("word.other", "Other", "その他"),
    ("word.participant", "Participant (farmer)", "参加者（農業者）"),
    ("word.registered", "Registered", "登録済み"),
    ("word.rejected", "Rejected", "却下"),
    ("word.retired", "Retired", "償却済み"),
    ("word.returned", "Returned", "差し戻し"),
    ("word.scope1", "Scope 1 emissions", "スコープ1排出量"),
    ("word.scope2", "Scope 2 emissions", "スコープ2排出量"),
    ("word.scope3", "Scope 3 emissions", "スコープ3排出量"),
    ("word.submitted", "Submitted", "提出済み"),
    ("word.terminated", "Terminated", "終了"),
    ("word.tradable", "Tradable", "取引可能"),
    ("word.transferred", "Transferred", "移転"),
    ("word.validated", "Validated", "妥当性確認済み"),
    ("word.verified", "Verified", "検証済み"),
    ("word.verifier", "Verifier", "検証機関"),
    ("word.voluntary_offset", "Voluntary offset", "自主的オフセット"),
];

/// The signed-in pages that act (issue #9: `participant.rs`, `buyer.rs`, `acting.rs`), in a block
/// of their own; key, English, Japanese, sorted by key like `MESSAGES`.
pub const ACTING: &[(&str, &str, &str)] = &[
    ("act.back", "Go back", "戻る"),
    ("act.buy.account", "For account", "購入口座"),
    ("act.buy.any", "Any", "指定なし"),
    ("act.buy.available", "for sale", "販売可能"),
    ("act.buy.by_batch", "By batch", "バッチを指定"),
    ("act.buy.by_filter", "By what the credits must be", "条件を指定"),
    ("act.buy.currency", "Currency", "通貨"),
    (
        "act.buy.filter_intro",
        "Name what matters to you (methodology, label, vintage, ecological score) and the program picks the oldest batch that matches and still has the credits.",
        "重視する条件（方法論、ラベル、ビンテージ、生態系スコア）を指定すると、条件に合い、必要な数量が残っている最も古いバッチが選ばれます。",
    ),
    (
        "act.buy.filter_quote_note",
        "The quote is made from the batch that matches when you ask for it, and holds its price for 24 hours. Nothing is reserved until you accept it.",
        "見積りは作成時に条件に合うバッチから作られ、価格を24時間保証します。承諾するまでクレジットは確保されません。",
    ),
    (
        "act.buy.intro",
        "Choose a batch, or say what the credits must be, and how many (one credit is one tonne of CO₂e). You see the price and the program's fee before anything is saved.",
        "バッチまたは条件と、数量（1クレジット＝1 t-CO₂e）を選んでください。保存する前に価格とプログラム手数料を確認できます。",
    ),
    ("act.buy.label", "Label", "ラベル"),
    ("act.buy.matching", "Batches that match", "条件に合うバッチ"),
    ("act.buy.methodology", "Methodology", "方法論"),
    ("act.buy.min_score", "Minimum ecological score", "生態系スコアの下限"),
    (
        "act.buy.no_account",
        "Your user has no buyer account; ask the program to link one.",
        "あなたのユーザーには購入者口座がありません。プログラムに連携を依頼してください。",
    ),
    (
        "act.buy.no_match",
        "No batch for sale matches these criteria. Widen them, or choose a batch above.",
        "条件に合う販売中のバッチはありません。条件を広げるか、上でバッチを選んでください。",
    ),
    ("act.buy.nothing", "No batch is for sale at the moment.", "現在、販売中のバッチはありません。"),
    ("act.buy.preview", "Show the price", "価格を表示"),
    ("act.buy.price", "Price", "価格"),
    ("act.buy.quantity", "Credits", "クレジット数"),
    ("act.buy.quote", "Get a quote", "見積りを作成"),
    (
        "act.buy.quote_note",
        "A quote holds this price for 24 hours. Nothing is reserved until you accept it.",
        "見積りはこの価格を24時間保証します。承諾するまでクレジットは確保されません。",
    ),
    ("act.buy.takes", "The quote would take batch", "見積りに使われるバッチ："),
    ("act.buy.title", "Buy credits", "クレジットを購入"),
    (
        "act.buy.too_few",
        "No matching batch has that many credits left; ask for fewer.",
        "条件に合うバッチには、その数量が残っていません。数量を減らしてください。",
    ),
    ("act.buy.vintage_from", "Vintage from", "ビンテージ（から）"),
    ("act.buy.vintage_to", "Vintage to", "ビンテージ（まで）"),
    ("act.claim.beneficiary", "Beneficiary", "受益者"),
    ("act.claim.country", "Beneficiary's country (ISO code, optional)", "受益者の国（ISOコード、任意）"),
    ("act.claim.from", "Claim period from", "主張期間（開始）"),
    (
        "act.claim.intro",
        "Name whom the credits are retired for and why. The operator retires them with exactly this claim when it settles the sale; you can change it until then.",
        "クレジットを誰のために、何の目的で償却するかを指定してください。運営者は決済時にこの内容のまま償却します。決済までは変更できます。",
    ),
    ("act.claim.jurisdiction", "Jurisdiction (e.g. JP or JP-13)", "管轄（例：JP、JP-13）"),
    ("act.claim.none", "No beneficiary named yet.", "受益者はまだ指定されていません。"),
    ("act.claim.note", "Note (public)", "備考（公開）"),
    ("act.claim.period", "Claim period", "主張期間"),
    ("act.claim.purpose", "Purpose", "目的"),
    ("act.claim.submit", "Save the beneficiary and purpose", "受益者と目的を保存"),
    ("act.claim.title", "Retirement: beneficiary and purpose", "償却：受益者と目的"),
    ("act.claim.to", "Claim period to", "主張期間（終了）"),
    ("act.claim.where", "Jurisdiction", "管轄"),
    ("act.enrolment.active", "Active", "参加中"),
    ("act.enrolment.withdrawal_requested", "Withdrawal requested", "離脱申請中"),
    ("act.enrolment.withdrawn", "Withdrawn", "離脱済み"),
    ("act.farm.amount", "Your share", "あなたの受取額"),
    ("act.farm.area", "Area", "面積"),
    ("act.farm.contribution", "Your contribution", "あなたの貢献量"),
    ("act.farm.credits", "Credits from your parcels", "あなたの圃場からのクレジット"),
    ("act.farm.csv", "Download the statement (CSV)", "明細をダウンロード（CSV）"),
    ("act.farm.effective", "Effective", "発効日"),
    ("act.farm.enrolment", "Enrolment", "参加登録"),
    ("act.farm.enrolments", "Enrolments", "参加登録"),
    ("act.farm.ground", "Ground", "理由"),
    (
        "act.farm.intro",
        "Your parcels, the credits they produced, the sales of those credits and what you were paid.",
        "あなたの圃場、そこから生まれたクレジット、その販売と支払いの状況です。",
    ),
    ("act.farm.name", "Field name", "圃場名"),
    (
        "act.farm.no_sales",
        "No sale of your credits has been settled yet.",
        "あなたのクレジットの販売はまだ決済されていません。",
    ),
    (
        "act.farm.none",
        "No farm is linked to your user. The program links a participant's account to its users.",
        "あなたのユーザーには農場が連携されていません。プログラムが参加者の口座をユーザーに連携します。",
    ),
    ("act.farm.note", "Explanation (private: only the program sees it)", "説明（非公開：プログラムのみ閲覧）"),
    (
        "act.farm.nothing_to_withdraw",
        "None of your enrolments is active: there is nothing to withdraw from.",
        "有効な参加登録がないため、離脱の対象はありません。",
    ),
    ("act.farm.parcel", "Parcel", "圃場"),
    ("act.farm.parcels", "Parcels", "圃場"),
    ("act.farm.participant", "Participant", "参加者"),
    ("act.farm.payouts", "Sales and payouts", "販売と支払い"),
    (
        "act.farm.payouts_intro",
        "When a buyer's purchase settles, the net price is split over the farmers whose parcels produced the credits, by their verified contribution.",
        "購入が決済されると、手数料を除いた代金が、クレジットを生んだ圃場の農業者に検証済みの貢献量に応じて配分されます。",
    ),
    ("act.farm.period", "Period", "期間"),
    ("act.farm.place", "Location", "所在地"),
    ("act.farm.produced", "Credits your parcels produced", "あなたの圃場が生んだクレジット"),
    ("act.farm.reference", "Payment reference", "支払参照番号"),
    ("act.farm.report", "Report", "報告"),
    ("act.farm.reports", "Monitoring reports", "モニタリング報告"),
    ("act.farm.settled", "Settled", "決済日"),
    ("act.farm.sold", "Credits sold", "販売クレジット"),
    ("act.farm.title", "My farm", "私の農場"),
    ("act.farm.withdraw", "Request withdrawal", "離脱を申請する"),
    (
        "act.farm.withdraw_intro",
        "Withdrawing early needs one of the program's recognised grounds. The operator decides and sets the date from which you earn nothing more.",
        "早期離脱にはプログラムが認める理由が必要です。運営者が判断し、以後の受取がなくなる発効日を決めます。",
    ),
    ("act.farm.withdraw_submit", "Send the withdrawal request", "離脱申請を送信"),
    (
        "act.farm.withdrawal_sent",
        "Your withdrawal request was recorded. It is pending until the operator decides.",
        "離脱申請を記録しました。運営者が判断するまで保留中です。",
    ),
    ("act.me.farm", "Parcels, reports, payouts and statement", "圃場・報告・支払い・明細"),
    ("act.me.purchases", "My quotes and purchases", "見積りと購入"),
    ("act.none", "None yet.", "まだありません。"),
    ("act.payout.forfeited", "Forfeited (withdrawn)", "没収（離脱済み）"),
    ("act.payout.owed", "Owed", "未払い"),
    ("act.payout.paid", "Paid", "支払済み"),
    ("act.price.fee", "Program fee", "プログラム手数料"),
    (
        "act.price.fee_note",
        "The program's fee is taken from the total; the rest goes to the farmers whose parcels produced the credits.",
        "手数料は合計額から差し引かれ、残りはクレジットを生んだ圃場の農業者に支払われます。",
    ),
    ("act.price.gross", "Total", "合計"),
    ("act.price.input", "Pricing input", "価格要素"),
    ("act.price.lines", "How the price is made", "価格の内訳"),
    ("act.price.net", "To farmers", "農業者へ"),
    ("act.price.running", "Unit price so far", "途中の単価"),
    ("act.price.source", "Source", "出典"),
    ("act.price.unit", "Price per credit", "1クレジットあたりの価格"),
    ("act.price.value", "Value", "値"),
    ("act.project", "Project", "プロジェクト"),
    ("act.purchases.quotes", "Quotes", "見積り"),
    ("act.purchases.sales", "Purchases", "購入"),
    ("act.purchases.title", "My purchases", "購入履歴"),
    ("act.quote.accept", "Accept and buy", "承諾して購入"),
    (
        "act.quote.accept_note",
        "Accepting reserves the credits for you (escrow) until the quote expires. The operator settles the purchase once your payment arrives.",
        "承諾すると、見積りの期限までクレジットがあなたのために確保（エスクロー）されます。支払いの着金後、運営者が決済します。",
    ),
    ("act.quote.accepted", "Accepted", "承諾済み"),
    ("act.quote.created", "Created", "作成日時"),
    ("act.quote.expired", "Expired", "期限切れ"),
    ("act.quote.expires", "Valid until", "有効期限"),
    ("act.quote.open", "Open", "有効"),
    ("act.quote.title", "Quote", "見積り"),
    (
        "act.refused.expired",
        "The quote has expired. Ask for a new one.",
        "見積りの期限が切れています。新しい見積りを作成してください。",
    ),
    ("act.refused.forbidden", "You may not do this with your user.", "あなたのユーザーではこの操作はできません。"),
    ("act.refused.frozen", "These credits or this account are frozen.", "このクレジットまたは口座は凍結されています。"),
    (
        "act.refused.ground",
        "That is not one of the program's recognised grounds.",
        "プログラムが認める理由ではありません。",
    ),
    ("act.refused.insufficient", "There are not enough credits for this.", "クレジットが足りません。"),
    ("act.refused.invalid", "The registry refused this request.", "登録簿がこの申請を受け付けませんでした。"),
    ("act.refused.not_found", "There is no such thing here.", "該当するものが見つかりません。"),
    ("act.refused.registry", "The registry's message:", "登録簿からのメッセージ："),
    ("act.refused.state", "This cannot be done in its current state.", "現在の状態ではこの操作はできません。"),
    ("act.refused.title", "Not done", "実行されませんでした"),
    (
        "act.retire.intro",
        "Credits already in your account can be retired at once for a named beneficiary. Retirement is final: retired credits are never refunded or moved again.",
        "口座に保有しているクレジットは、指定した受益者のために直ちに償却できます。償却は取り消せません。償却したクレジットは返金も移転もできません。",
    ),
    (
        "act.retire.nothing",
        "None of your accounts holds tradable credits.",
        "取引可能なクレジットを保有する口座がありません。",
    ),
    ("act.retire.submit", "Retire", "償却する"),
    ("act.retire.title", "Retire credits you hold", "保有クレジットを償却"),
    ("act.sale", "Purchase", "購入"),
    ("act.sale.awaiting", "Awaiting payment", "入金待ち"),
    (
        "act.sale.awaiting_note",
        "Your credits are reserved for you. The purchase completes when the operator has received your payment and settles it: the credits are then retired for the beneficiary below and the certificate appears here.",
        "クレジットはあなたのために確保されています。運営者が入金を確認して決済すると購入が完了し、下記の受益者のためにクレジットが償却され、ここに証明書が表示されます。",
    ),
    ("act.sale.cancelled", "Cancelled", "取消"),
    ("act.sale.certificate", "Certificate", "証明書"),
    ("act.sale.claim_saved", "The beneficiary and purpose were recorded.", "受益者と目的を記録しました。"),
    ("act.sale.escrow_until", "Reserved until", "確保期限"),
    ("act.sale.expired", "Expired (not paid in time)", "期限切れ（期限内に未入金）"),
    ("act.sale.html", "View (HTML)", "表示（HTML）"),
    ("act.sale.pdf", "Download (PDF)", "ダウンロード（PDF）"),
    ("act.sale.released", "Released:", "解除理由："),
    ("act.sale.retirement", "Retirement", "償却"),
    ("act.sale.settled", "Settled and retired", "決済・償却済み"),
    ("act.sale.settled_at", "Settled", "決済日時"),
    ("act.status", "Status", "状態"),
    ("act.unknown", "Unknown", "不明"),
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accept_language_picks_the_heaviest_known_language() {
        assert_eq!(Lang::from_accept_language("ja-JP,ja;q=0.9,en;q=0.8"), Lang::Ja);
        assert_eq!(Lang::from_accept_language("en-GB,ja;q=0.5"), Lang::En);
        assert_eq!(Lang::from_accept_language("fr, ja;q=0.3"), Lang::Ja);
        assert_eq!(Lang::from_accept_language("ja;q=0"), Lang::En);
        assert_eq!(Lang::from_accept_language(""), Lang::En);
        assert_eq!(Lang::from_accept_language("de,fr"), Lang::En);
    }

    #[test]
    fn numbers_dates_and_money_follow_the_locale() {
        assert_eq!(Lang::En.num(&1_234_567), "1,234,567");
        assert_eq!(Lang::Ja.num(&999), "999");
        assert_eq!(Lang::En.yen(&12_000), "¥12,000");
        assert_eq!(Lang::Ja.yen(&12_000), "12,000円");
        assert_eq!(Lang::En.date("2026-04-01"), "1 Apr 2026");
        assert_eq!(Lang::Ja.date("2026-04-01"), "2026年4月1日");
        assert_eq!(Lang::Ja.when("2026-11-26T05:33:09.5Z"), "2026年11月26日 05:33 UTC");
        assert_eq!(Lang::En.date("nonsense"), "nonsense");
        use furrow_domain::sales::{Currency, Money};
        assert_eq!(Lang::En.money(&Money { currency: Currency::Jpy, minor: 1_234_567 }), "¥1,234,567");
        assert_eq!(Lang::Ja.money(&Money { currency: Currency::Jpy, minor: 1_234_567 }), "1,234,567円");
        assert_eq!(Lang::En.money(&Money { currency: Currency::Usd, minor: 123_450 }), "US$1,234.50");
        assert_eq!(Lang::Ja.money(&Money { currency: Currency::Eur, minor: 5 }), "0.05ユーロ");
    }

    #[test]
    fn catalogue_is_sorted_and_unique() {
        for table in [MESSAGES, ACTING] {
            for pair in table.windows(2) {
                assert!(pair[0].0 < pair[1].0, "catalogue out of order or duplicated at {}", pair[1].0);
            }
        }
        for (key, _, _) in ACTING {
            assert!(!MESSAGES.iter().any(|(k, _, _)| k == key), "{key} is in both tables");
        }
    }

    /// Every `t("…")` in every template and page module has a non-empty message in both languages.
    #[test]
    fn catalogue_is_complete() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        let mut sources = Vec::new();
        for dir in ["templates", "src/web"] {
            for entry in std::fs::read_dir(root.join(dir)).expect("source dir") {
                let path = entry.expect("entry").path();
                sources.push((path.display().to_string(), std::fs::read_to_string(&path).expect("readable")));
            }
        }
        let mut used = 0;
        for (name, text) in &sources {
            for piece in text.split("t(\"").skip(1) {
                let key = piece.split('"').next().unwrap_or("");
                // Keys look like `section.name`; anything else (this comment's `…`) is not a use.
                let is_key = key.contains('.')
                    && key.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '.');
                if !is_key {
                    continue;
                }
                used += 1;
                let found = entry(key);
                let (_, en, ja) = found.unwrap_or_else(|| panic!("{name}: key {key} is not in the catalogue"));
                assert!(!en.trim().is_empty(), "{key} has no English text");
                assert!(!ja.trim().is_empty(), "{key} has no Japanese text");
            }
        }
        assert!(used > 50, "the scan found only {used} keys; is it still reading the templates?");
        for (key, en, ja) in MESSAGES.iter().chain(ACTING) {
            assert!(!en.trim().is_empty() && !ja.trim().is_empty(), "{key} is missing a language");
        }
    }
}
