//! Whole export files (`furrow import`): never a panic, and every data row is either a record or
//! a quarantined row. The first byte picks a real header to prepend, so the fuzzer reaches the
//! layouts' row parsers and not only layout detection.
#![no_main]

use libfuzzer_sys::fuzz_target;

const HEADERS: &[&str] = &[
    "",
    "Issuance Date,Sustainable Development Goals,Vintage Start,Vintage End,ID,Name,Country/Area,Project Type,Methodology,Total Vintage Quantity,Quantity Issued,Serial Number,Additional Certifications,Retirement/Cancellation Date,Retirement Beneficiary,Retirement Reason,Retirement Details\n",
    "Project ID,GSID,Vintage,\"Issuance \nYear\",Credit Status,Quantity,Project Name,Project Developer,Project Type,Product Type,Country,Methodology,Programme of Activities,POA GSID,Issuance Date,Monitoring Period Start,Monitoring Period End,Serial Number,Eligible for CORSIA?\n",
    "Project ID,Vintage,Offset Credit Serial Numbers,Quantity of Offset Credits,Status Effective,Project Name,Project Type,Protocol Version,Project Site Location,Project Site State,Project Site Country,Additional Certification(s) / SDGs,ARB Eligible,Account Holder,Retirement Reason,Retirement Reason Details,Date Issued,Retirement Year\n",
    "project_name,project_id,serial,vintage,certificate_destination,end_user,passive_subject,date,quantity,public_consult,from,to,industry\n",
    "serial_number,issued_by,project_id,status,type,methodology,date_issued,date_retired\n",
    "id,issued_at,project_id,supplier_credit_batch_size_total.credits,supplier_credit_batch_size_total.credit_kgs,buffer_pool_credit_batch_size_total.credits,buffer_pool_credit_batch_size_total.credit_kgs,credit_batch_size_total.credits,credit_batch_size_total.credit_kgs\n",
];

fuzz_target!(|data: &[u8]| {
    let Some((&pick, rest)) = data.split_first() else { return };
    let mut bytes = HEADERS[usize::from(pick) % HEADERS.len()].as_bytes().to_vec();
    bytes.extend_from_slice(rest);
    if let Ok(file) = furrow_import::parse_file("projects/PR00001/fuzz.csv", &bytes, None) {
        assert_eq!(file.records.len() + file.quarantined.len(), file.rows as usize);
    }
});
