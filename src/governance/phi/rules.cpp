#include "governance/phi/rules.hpp"

#include <utility>

namespace rounds::governance::phi {
namespace {

Rule Digits(std::string id, PhiType type, int min, int max, Validator validator, double base,
            double formatted, double with_context, std::vector<std::string> context) {
  Rule r;
  r.id = std::move(id);
  r.type = type;
  r.kind = RuleKind::kDigits;
  r.min_length = min;
  r.max_length = max;
  r.validator = validator;
  r.base = base;
  r.formatted = formatted;
  r.with_context = with_context;
  r.context = std::move(context);
  return r;
}

Rule Token(std::string id, PhiType type, int min, int max, Validator validator, double base,
           double with_context, std::vector<std::string> context, bool numeric_guard = true) {
  Rule r;
  r.id = std::move(id);
  r.type = type;
  r.kind = RuleKind::kToken;
  r.min_length = min;
  r.max_length = max;
  r.validator = validator;
  r.base = base;
  r.with_context = with_context;
  r.context = std::move(context);
  r.numeric_guard = numeric_guard;
  return r;
}

Rule Pattern(std::string id, PhiType type, std::string pattern, Trigger trigger,
             Validator validator, double base, double with_context,
             std::vector<std::string> context) {
  Rule r;
  r.id = std::move(id);
  r.type = type;
  r.kind = RuleKind::kPattern;
  r.pattern = std::move(pattern);
  r.trigger = trigger;
  r.validator = validator;
  r.base = base;
  r.with_context = with_context;
  r.context = std::move(context);
  r.numeric_guard = false;
  return r;
}

}  // namespace

RuleSet DefaultRuleSet(const RuleOptions& options) {
  const std::vector<std::string> phone_ctx = {
      "phone", "ph", "tel", "telephone", "cell", "cellphone", "mobile", "mob", "call", "calls",
      "called", "text", "txt", "fax", "faxed", "contact", "reach",
      "reached", "home", "work", "office", "callback", "cb", "dial", "ring", "whatsapp", "sms",
      "landline", "vm", "voicemail"};
  const std::vector<std::string> ssn_ctx = {"ssn", "ss", "ssno", "social", "security", "soc",
                                            "sec", "ssa", "tin", "taxpayer"};
  const std::vector<std::string> card_ctx = {"card", "visa", "mastercard", "mc", "amex",
                                             "discover", "cc", "credit", "debit", "payment",
                                             "pay", "charge", "charged"};
  const std::vector<std::string> npi_ctx = {"npi", "provider", "prescriber", "prescribing",
                                            "referring", "attending", "physician", "pcp"};
  const std::vector<std::string> mrn_ctx = {"mrn", "mr", "mrno", "medical", "record", "records",
                                            "chart", "medrec", "hospital", "patientid", "pid",
                                            "hosp", "emr", "ehr", "registration", "encounter"};
  const std::vector<std::string> plan_ctx = {
      "member", "memberid", "subscriber", "policy", "insurance", "insured", "plan", "group",
      "grp", "medicaid", "medicare", "payer", "payor", "insurer", "bcbs", "aetna", "cigna",
      "humana", "uhc", "hmo", "ppo", "beneficiary", "coverage", "hicn", "mbi", "tricare"};
  // With the numbers of a bill, a claim or a prescription: "any other unique identifying number"
  // ("rx" is left out: a dose follows it more often than a number, "rx 10000 units heparin").
  const std::vector<std::string> account_ctx = {"account", "acct", "acc", "accts", "accounts",
                                                "billing", "bank", "iban", "statement",
                                                "guarantor", "hsa", "fsa", "claim", "claims",
                                                "invoice", "fin", "csn", "har",
                                                "prescription"};
  const std::vector<std::string> license_ctx = {
      "license", "licence", "licensed", "lic", "dl", "driver", "drivers", "driving", "permit",
      "cdl", "dea", "certificate", "cert", "board", "rn", "lpn"};
  const std::vector<std::string> vehicle_ctx = {"vin", "vehicle", "car", "truck", "van", "auto",
                                                "suv", "motorcycle", "chassis"};
  const std::vector<std::string> plate_ctx = {"plate", "plates", "tag", "tags", "registration",
                                              "reg"};
  const std::vector<std::string> device_ctx = {
      "serial", "sn", "serialno", "device", "udi", "implant", "implanted", "pacemaker",
      "defibrillator", "aicd", "icd", "pump", "monitor", "glucometer", "cgm", "imei", "handset",
      "hearing", "cochlear", "stimulator", "model", "mac", "tablet", "wearable", "sensor"};
  const std::vector<std::string> ip_ctx = {"ip", "ipv4", "ipv6", "address", "addr", "from",
                                           "host", "server", "login", "logged", "connected",
                                           "vpn", "router", "wifi", "network"};
  const std::vector<std::string> url_ctx = {"my", "his", "her", "their", "blog", "profile",
                                            "photos", "photo", "album", "instagram", "facebook",
                                            "tiktok", "youtube", "twitter", "linkedin",
                                            "gofundme", "fundraiser", "page", "website",
                                            "homepage", "channel", "feed", "pics", "journey"};
  const std::vector<std::string> date_ctx = {
      "dob", "yob", "born", "birth", "birthday", "bday", "birthdate", "dateofbirth", "admitted",
      "admit", "admission", "adm", "readmitted", "discharged", "discharge", "dc", "dcd", "died",
      "death", "deceased", "expired", "passed", "dod", "tod", "seen", "visit", "visited", "appt",
      "appointment", "surgery", "procedure", "op", "operated", "delivered", "delivery", "edd",
      "lmp", "dos", "injury", "injured", "fell", "fall", "accident", "onset", "hospitalized",
      "hospitalised", "transferred", "followup", "fu", "diagnosed", "dx", "vaccinated",
      "immunized", "biopsy", "scan", "mri", "ct", "xray", "ed", "er", "presented", "arrived"};
  const std::vector<std::string> zip_ctx = {"zip", "zipcode", "postal", "postcode"};

  RuleSet set;
  auto& r = set.rules;

  // Digit runs. Order matters only for ties: the more specific identifier comes first.
  r.push_back(Digits("card.luhn", PhiType::kCard, 13, 19, Validator::kCard, 0.9, 0.9, 0.98,
                     card_ctx));
  r.push_back(Digits("device.imei", PhiType::kDevice, 15, 15, Validator::kImei, 0.6, 0.7, 0.97,
                     device_ctx));
  r.push_back(Digits("phone.nanp", PhiType::kPhone, 10, 11, Validator::kPhone, 0.7, 0.85, 0.97,
                     phone_ctx));
  r.push_back(Digits("npi.luhn", PhiType::kNpi, 10, 10, Validator::kNpi, 0.35, 0.55, 0.97,
                     npi_ctx));
  r.push_back(Digits("ssn.valid", PhiType::kSsn, 9, 9, Validator::kSsn, 0.3, 0.85, 0.97,
                     ssn_ctx));
  r.push_back(Digits("phone.local", PhiType::kPhone, 7, 7, Validator::kPhoneLocal, 0.2, 0.3,
                     0.85, phone_ctx));
  Rule mrn = Digits("mrn.number", PhiType::kMrn, 5, 12, Validator::kMrn, 0.1, 0.1, 0.9, mrn_ctx);
  mrn.index_confidence = 0.92;
  r.push_back(std::move(mrn));
  r.push_back(Digits("plan.number", PhiType::kHealthPlan, 6, 14, Validator::kHasDigit, 0.05, 0.05,
                     0.85, plan_ctx));
  r.push_back(Digits("account.number", PhiType::kAccount, 5, 17, Validator::kHasDigit, 0.05, 0.05,
                     0.85, account_ctx));
  r.push_back(Digits("license.number", PhiType::kLicense, 5, 12, Validator::kHasDigit, 0.05,
                     0.05, 0.85, license_ctx));
  r.push_back(Digits("device.serialno", PhiType::kDevice, 6, 20, Validator::kHasDigit, 0.05,
                     0.05, 0.8, device_ctx));
  r.push_back(Digits("zip.code", PhiType::kZip, 5, 9, Validator::kZip, 0.05, 0.75, 0.9,
                     zip_ctx));
  r.push_back(Digits("date.numeric", PhiType::kDate, 2, 8, Validator::kDate, 0.4, 0.4, 0.92,
                     date_ctx));
  r.push_back(Digits("ip.v4", PhiType::kIp, 4, 12, Validator::kIpv4, 0.8, 0.8, 0.95, ip_ctx));

  // Words of letters and digits.
  r.push_back(Token("vehicle.vin", PhiType::kVehicle, 17, 17, Validator::kVin, 0.9, 0.98,
                    vehicle_ctx, false));
  r.push_back(Token("dea.checksum", PhiType::kLicense, 9, 9, Validator::kDea, 0.8, 0.97,
                    {"dea", "prescriber", "registration"}, false));
  r.push_back(Token("plan.mbi", PhiType::kHealthPlan, 11, 11, Validator::kMbi, 0.85, 0.97,
                    plan_ctx, false));
  r.push_back(Token("mrn.prefixed", PhiType::kMrn, 7, 15, Validator::kMrnPrefixed, 0.95, 0.97,
                    mrn_ctx, false));
  // "MRN E2045511", "chart # AB123456": a record number with letters in it, by its context word
  // (and by the index, which the scanner checks for every letter-digit word).
  Rule mrn_id = Token("mrn.id", PhiType::kMrn, 5, 15, Validator::kHasDigit, 0.05, 0.9, mrn_ctx);
  mrn_id.index_confidence = 0.92;
  r.push_back(std::move(mrn_id));
  r.push_back(Token("plan.member_id", PhiType::kHealthPlan, 6, 20, Validator::kHasDigit, 0.05,
                    0.85, plan_ctx));
  r.push_back(Token("account.id", PhiType::kAccount, 6, 20, Validator::kHasDigit, 0.05, 0.85,
                    account_ctx));
  r.push_back(Token("license.id", PhiType::kLicense, 5, 15, Validator::kHasDigit, 0.05, 0.85,
                    license_ctx));
  r.push_back(Token("device.serial", PhiType::kDevice, 5, 24, Validator::kHasDigit, 0.05, 0.8,
                    device_ctx));
  r.push_back(Token("vehicle.plate", PhiType::kVehicle, 4, 8, Validator::kHasDigit, 0.05, 0.85,
                    plate_ctx));

  // Regular expressions.
  r.push_back(Pattern("email.address", PhiType::kEmail,
                      "@ ?[A-Z0-9\\-]+(?:\\.[A-Z0-9\\-]+)*\\.[A-Z]{2,24}\\b", Trigger::kAtSign,
                      Validator::kEmail, 0.95, 0.98, {}));
  const std::string url_chars = "[^\\s<>\"'()\\[\\]{}]";
  // The rest of a URL, host and path, is a run of url_chars: matched by extending
  // (Rule::extend_over), not by the pattern, which would be reported at every character of the
  // run. So each pattern ends as soon as the text is sure to be a URL, and the validator ends
  // the URL where the sentence resumes.
  r.push_back(Pattern("url.scheme", PhiType::kUrl, "\\b(?:https?|ftp)://" + url_chars,
                      Trigger::kUrl, Validator::kUrl, 0.3, 0.75, url_ctx));
  r.back().extend_over = url_chars;
  // A host "www.name." and the first character after that dot: a longer host pattern would
  // extend to the same end (every host character is one of url_chars) with a report per
  // character of the top-level domain.
  r.push_back(Pattern("url.www", PhiType::kUrl, "\\bwww\\.[A-Z0-9\\-]+\\.[A-Z0-9\\-]",
                      Trigger::kUrl, Validator::kUrl, 0.3, 0.75, url_ctx));
  r.back().extend_over = url_chars;
  // Anchored at the top-level domain (a literal, cheap to find); the host name before it is
  // taken by the validator.
  r.push_back(Pattern("url.bare", PhiType::kUrl,
                      "\\.(?:com|org|net|edu|gov|io|us|info|test|example|health|me|ly|co|ca|uk|app|dev|"
                      "au|de|ai|link|site|page|care|clinic)/",
                      Trigger::kUrl, Validator::kUrl, 0.3, 0.75, url_ctx));
  r.back().extend_over = url_chars;
  // "+44 20 7946 0958", "+52 55 5555 0123", "+44 (0)20 7946 0123": a number in international
  // form (E.164: a country code and up to 15 digits); the validator counts its digits.
  r.push_back(Pattern("phone.intl", PhiType::kPhone,
                      "\\+[1-9][0-9]{0,2}(?:[ .-]?\\(0\\))?(?:[ .-]?[0-9]{2,5}){2,5}", Trigger::kPlus,
                      Validator::kPhoneIntl, 0.85, 0.97, phone_ctx));
  r.push_back(Pattern("device.udi", PhiType::kDevice,
                      "\\(01\\)\\d{14}(?:\\(\\d{2}\\)[A-Z0-9]{1,20}){0,4}", Trigger::kGs1,
                      Validator::kNone, 0.9, 0.95, device_ctx));
  for (std::size_t i = 0; i < options.mrn_formats.size(); ++i) {
    Rule format = Pattern("mrn.format" + std::to_string(i + 1), PhiType::kMrn,
                          "\\b(?:" + options.mrn_formats[i] + ")\\b", Trigger::kDigit,
                          Validator::kMrn, 0.2, 0.9, mrn_ctx);
    format.index_confidence = 0.92;
    format.numeric_guard = true;
    r.push_back(std::move(format));
  }
  return set;
}

}  // namespace rounds::governance::phi
