//! The program page's questions and answers, in both languages: the topics of the program's
//! original FAQ (`shared/seed/`). Content, not interface text, so it lives beside the catalogue
//! rather than in it; each entry is English question, English answer, Japanese question,
//! Japanese answer, so neither language can lack one.

pub struct Section {
    /// A catalogue key.
    pub title: &'static str,
    pub items: &'static [(&'static str, &'static str, &'static str, &'static str)],
}

pub const SECTIONS: &[Section] = &[
    Section {
        title: "program.title",
        items: &[
            (
                "What does the program provide?",
                "A voluntary carbon-offset program for agriculture. Projects developed under its methodologies generate credits; companies buy them to offset emissions, and every credit sold is retired in this public registry.",
                "この制度は何を提供しますか？",
                "農業分野のボランタリー・カーボンオフセット制度です。方法論に沿って実施されたプロジェクトがクレジットを生み出し、企業が排出量のオフセットのために購入します。販売されたクレジットはすべてこの公開登録簿で償却されます。",
            ),
            (
                "How is it different from J-Credit?",
                "J-Credit is a government-led scheme; this program is led by the private sector and runs from project development to credit sales in one service. It is designed for agriculture, aims to be usable internationally, and tracks ecological impact alongside emission reductions.",
                "J-クレジットとの違いは？",
                "J-クレジットは政府主導の制度ですが、この制度は民間主導で、プロジェクト開発からクレジット販売までを一貫して行います。農業に特化し、国際的な活用を目指し、排出削減量とあわせて生態系への影響も追跡します。",
            ),
            (
                "What does tracking ecological impact mean?",
                "Monitoring reports record ecological indicators (for example frogs and dragonflies in paddies, or soil health) beside the emission reductions, so a credit shows both its short-term and its long-term effect.",
                "生態系への影響の追跡とは？",
                "モニタリング報告では、排出削減量とあわせて生態系の指標（水田のカエルやトンボ、土壌の健全性など）を記録し、クレジットの短期的・長期的な効果の両方を示します。",
            ),
            (
                "What is the registry?",
                "This site: it records every credit issued, transferred, retired or cancelled, with serial numbers, in a signed log that anyone can verify.",
                "登録簿とは？",
                "このサイトです。発行・移転・償却・取消されたすべてのクレジットを通し番号付きで記録し、誰でも検証できる署名付きログに残します。",
            ),
        ],
    },
    Section {
        title: "program.for_companies",
        items: &[
            (
                "What are voluntary carbon credits?",
                "Certified reductions or removals of greenhouse gases, one tonne of CO₂e each, that a company buys of its own accord to offset emissions it cannot yet avoid.",
                "ボランタリー・カーボンクレジットとは？",
                "温室効果ガスの削減量・除去量を認証したもので、1クレジットはCO₂換算1トンです。企業が自主的に購入し、まだ削減できない排出量をオフセットします。",
            ),
            (
                "Why offset if we already reduce our own emissions?",
                "Reducing your own emissions comes first. Offsetting covers what remains and finances reductions elsewhere, here on farms.",
                "自社で削減しているのに、なぜオフセットが必要なのですか？",
                "自社の排出削減が最優先です。オフセットは削減しきれない分を補い、他の場所（ここでは農場）での削減を資金面で支えます。",
            ),
            (
                "How is the price of credits determined?",
                "Prices are set per project and vintage and disclosed with each sale, together with the share that goes to farmers.",
                "クレジットの価格はどのように決まりますか？",
                "価格はプロジェクトとヴィンテージごとに設定され、農家への配分とともに販売ごとに開示されます。",
            ),
            (
                "How is double counting avoided?",
                "Every credit has a unique serial number and can be retired once only; retirements are public and each one is provable from the signed log.",
                "二重計上はどのように防がれますか？",
                "すべてのクレジットには固有の通し番号があり、償却は一度しかできません。償却は公開され、署名付きログから証明できます。",
            ),
            (
                "Are refunds possible?",
                "A retired credit cannot be un-retired. Before retirement, refunds follow the terms of sale.",
                "返金はできますか？",
                "償却済みのクレジットを元に戻すことはできません。償却前の返金は販売条件に従います。",
            ),
        ],
    },
    Section {
        title: "program.for_farmers",
        items: &[
            (
                "What is the difference between the program and a project?",
                "The program sets the rules and methodologies; a project applies one methodology in one region, and farmers take part in a project with their fields.",
                "制度とプロジェクトの違いは？",
                "制度は規則と方法論を定めます。プロジェクトは特定の地域で一つの方法論を適用するもので、農家は自分の圃場でプロジェクトに参加します。",
            ),
            (
                "When and how will I be paid?",
                "After credits from your fields are verified, issued and sold, your share is paid out; each payout is itemised in your statement.",
                "いつ、どのように支払われますか？",
                "圃場から生まれたクレジットが検証・発行・販売された後、あなたの取り分が支払われます。支払いは明細に記載されます。",
            ),
            (
                "How can I participate?",
                "Projects and their start dates vary: see the projects open for participation on the join page and contact the operator.",
                "どうすれば参加できますか？",
                "募集中のプロジェクトと開始日は異なります。「参加する」ページで募集中のプロジェクトを確認し、運営者にご連絡ください。",
            ),
            (
                "Can I withdraw before the end of the contract?",
                "Yes, on the program's recognised grounds; the operator decides a withdrawal request, and from its effective date your fields earn no further credits.",
                "契約期間の途中で退会できますか？",
                "はい、制度が認める理由があれば可能です。運営者が退会申請を判断し、その発効日以降は圃場からクレジットは生まれません。",
            ),
        ],
    },
];
