#include "governance/phi/rules.hpp"

#include <utility>

namespace rounds::governance::phi {
namespace {

// Separators people put inside numbers: "617 555 0142", "617.555.0142", "6-1-7".
constexpr const char* kSep = "[ .\\-]{0,2}";

// N digits with optional separators between any two of them.
std::string SpacedDigits(int n) {
  return "(?:\\d" + std::string(kSep) + "){" + std::to_string(n - 1) + "}\\d";
}

const char* kStates =
    "(?:AL|AK|AZ|AR|CA|CO|CT|DE|DC|FL|GA|HI|ID|IL|IN|IA|KS|KY|LA|ME|MD|MA|MI|MN|MS|MO|MT|NE|NV|"
    "NH|NJ|NM|NY|NC|ND|OH|OK|OR|PA|RI|SC|SD|TN|TX|UT|VT|VA|WA|WV|WI|WY)";

const char* kMonths =
    "(?:jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec|january|february|march|april|june|"
    "july|august|september|october|november|december)";

const char* kStreetSuffix =
    "(?:st|street|ave|avenue|av|rd|road|blvd|boulevard|dr|drive|ln|lane|ct|court|way|pl|place|"
    "ter|terrace|cir|circle|hwy|highway|pkwy|parkway|sq|square|trl|trail|pike|loop|row|path|"
    "crescent|cres|close|walk|plaza|alley|xing|crossing|run|pass|bend|point|pt|ridge|commons)";

Rule MakeRule(std::string id, PhiType type, std::string pattern, Validator validator, double base,
              double with_context, std::vector<std::string> context, bool numeric_guard = true) {
  Rule r;
  r.id = std::move(id);
  r.type = type;
  r.pattern = std::move(pattern);
  r.validator = validator;
  r.base = base;
  r.with_context = with_context;
  r.context = std::move(context);
  r.numeric_guard = numeric_guard;
  return r;
}

}  // namespace

RuleSet DefaultRuleSet(const RuleOptions& options) {
  const std::vector<std::string> phone_ctx = {
      "phone", "ph", "tel", "telephone", "cell", "cellphone", "mobile", "mob", "call", "calls",
      "text", "txt", "fax", "faxed", "number", "num", "no", "contact", "reach", "reached",
      "home", "work", "office", "callback", "cb", "dial", "ring", "whatsapp", "sms", "landline"};
  const std::vector<std::string> ssn_ctx = {"ssn", "ss", "ssno", "social", "security", "soc",
                                            "sec", "ssa", "tin", "taxpayer"};
  const std::vector<std::string> card_ctx = {"card", "visa", "mastercard", "mc", "amex",
                                             "discover", "cc", "credit", "debit", "payment",
                                             "pay", "charge", "charged", "billing"};
  const std::vector<std::string> npi_ctx = {"npi", "provider", "prescriber", "prescribing",
                                            "referring", "attending", "physician", "np", "pcp"};
  const std::vector<std::string> mrn_ctx = {"mrn", "mr", "mrno", "medical", "record", "records",
                                            "chart", "medrec", "hospital", "patientid", "pid",
                                            "hosp", "emr", "ehr", "epic", "registration"};
  const std::vector<std::string> plan_ctx = {
      "member", "memberid", "subscriber", "policy", "insurance", "insured", "plan", "group",
      "grp", "medicaid", "medicare", "payer", "payor", "insurer", "bcbs", "aetna", "cigna",
      "humana", "uhc", "hmo", "ppo", "beneficiary", "coverage", "hicn", "mbi", "tricare"};
  const std::vector<std::string> account_ctx = {"account", "acct", "acc", "accts", "accounts",
                                                "billing", "bank", "iban", "statement",
                                                "guarantor", "hsa", "fsa"};
  const std::vector<std::string> license_ctx = {
      "license", "licence", "licensed", "lic", "dl", "driver", "drivers", "driving", "permit",
      "cdl", "dea", "certificate", "cert", "registration", "state", "board", "rn", "lpn"};
  const std::vector<std::string> vehicle_ctx = {"vin", "vehicle", "car", "truck", "van", "auto",
                                                "plate", "plates", "tag", "tags", "registration",
                                                "reg", "suv", "motorcycle"};
  const std::vector<std::string> device_ctx = {
      "serial", "sn", "serialno", "device", "udi", "implant", "implanted", "pacemaker",
      "defibrillator", "aicd", "pump", "monitor", "glucometer", "cgm", "imei", "handset",
      "hearing", "cochlear", "stimulator", "model", "unit", "mac", "tablet", "wearable"};
  const std::vector<std::string> ip_ctx = {"ip", "ipv4", "ipv6", "address", "addr", "from",
                                           "host", "server", "login", "logged", "connected",
                                           "vpn", "router", "wifi", "network"};
  const std::vector<std::string> url_ctx = {"my", "his", "her", "their", "blog", "profile",
                                            "photos", "photo", "album", "instagram", "facebook",
                                            "tiktok", "youtube", "twitter", "linkedin",
                                            "gofundme", "fundraiser", "page", "website",
                                            "homepage", "channel", "feed", "pics"};
  const std::vector<std::string> date_ctx = {
      "dob", "yob", "born", "birth", "birthday", "bday", "birthdate", "dateofbirth", "admitted",
      "admit", "admission", "adm", "readmitted", "discharged", "discharge", "dc", "dcd", "died",
      "death", "deceased", "expired", "passed", "seen", "visit", "visited", "appt",
      "appointment", "surgery", "procedure", "op", "operated", "delivered", "delivery", "edd",
      "lmp", "dos", "injury", "injured", "fell", "fall", "accident", "onset", "hospitalized",
      "hospitalised", "transferred", "followup", "fu", "diagnosed", "dx", "vaccinated",
      "immunized", "biopsy", "scan", "mri", "ct", "xray", "ed", "er", "presented", "arrived",
      "dated"};
  const std::vector<std::string> zip_ctx = {"zip", "zipcode", "postal", "postcode"};
  const std::vector<std::string> address_ctx = {"lives", "live", "living", "address", "addr",
                                                "home", "resides", "residence", "moved", "at",
                                                "street", "apt", "house"};

  RuleSet set;
  auto& r = set.rules;

  // Telephone and fax (D, E).
  r.push_back(MakeRule("phone.formatted", PhiType::kPhone,
                       "(?:\\+?1[ .\\-]?)?(?:\\(\\s?\\d{3}\\s?\\)|\\d{3})[ .\\-/]?\\s?\\d{3}[ .\\-]?\\d{4}",
                       Validator::kPhone, 0.85, 0.97, phone_ctx));
  r.push_back(MakeRule("phone.spaced", PhiType::kPhone, "(?:1" + std::string(kSep) + ")?" + SpacedDigits(10),
                       Validator::kPhone, 0.7, 0.95, phone_ctx));
  r.push_back(MakeRule("phone.local", PhiType::kPhone, "\\b\\d{3}[ .\\-]\\d{4}\\b",
                       Validator::kPhoneLocal, 0.3, 0.85, phone_ctx));

  // SSN (G).
  r.push_back(MakeRule("ssn.formatted", PhiType::kSsn, "\\d{3}[ \\-.]\\d{2}[ \\-.]\\d{4}",
                       Validator::kSsn, 0.85, 0.98, ssn_ctx));
  r.push_back(MakeRule("ssn.digits", PhiType::kSsn, SpacedDigits(9), Validator::kSsn, 0.3, 0.95,
                       ssn_ctx));

  // Payment cards (J): one fixed-length pattern per length, so a leftmost start is exact.
  for (int n = 13; n <= 19; ++n) {
    r.push_back(MakeRule("card.luhn" + std::to_string(n), PhiType::kCard,
                         "(?:\\d[ \\-]{0,2}){" + std::to_string(n - 1) + "}\\d", Validator::kCard,
                         0.9, 0.98, card_ctx));
  }

  // NPI and DEA (K).
  r.push_back(MakeRule("npi.digits", PhiType::kNpi, "\\b[12]\\d{9}\\b", Validator::kNpi, 0.55, 0.97,
                       npi_ctx));
  r.push_back(MakeRule("npi.spaced", PhiType::kNpi, "[12](?:" + std::string(kSep) + "\\d){9}",
                       Validator::kNpi, 0.35, 0.95, npi_ctx));
  r.push_back(MakeRule("dea.checksum", PhiType::kLicense, "\\b[A-Z][A-Z9][ \\-]?\\d{7}\\b",
                       Validator::kDea, 0.8, 0.97, license_ctx, false));
  r.push_back(MakeRule("license.digits", PhiType::kLicense, "\\b[A-Z]{0,2}\\d{5,9}\\b",
                       Validator::kHasDigit, 0.1, 0.85, license_ctx));
  r.push_back(MakeRule("license.spaced", PhiType::kLicense, "\\b[A-Z]{1,2}[ \\-]\\d{5,9}\\b",
                       Validator::kHasDigit, 0.1, 0.85, license_ctx));

  // Medical record numbers (H).
  r.push_back(MakeRule("mrn.prefixed", PhiType::kMrn, "\\bMRN?[ :#\\-]{0,3}[A-Z]?\\d{5,10}\\b",
                       Validator::kMrn, 0.95, 0.97, mrn_ctx, false));
  r.back().index_confidence = 0.97;
  for (std::size_t i = 0; i < options.mrn_formats.size(); ++i) {
    r.push_back(MakeRule("mrn.format" + std::to_string(i + 1), PhiType::kMrn,
                         "\\b(?:" + options.mrn_formats[i] + ")\\b", Validator::kMrn, 0.2, 0.9,
                         mrn_ctx));
    r.back().index_confidence = 0.92;
  }
  r.push_back(MakeRule("mrn.context", PhiType::kMrn, "\\b[A-Z]{0,2}\\d{5,10}\\b", Validator::kMrn,
                       0.1, 0.85, mrn_ctx));
  r.back().index_confidence = 0.92;
  r.push_back(MakeRule("mrn.spaced", PhiType::kMrn, SpacedDigits(8), Validator::kMrn, 0.1, 0.85,
                       mrn_ctx));
  r.back().index_confidence = 0.75;

  // Health plan beneficiary numbers (I).
  r.push_back(MakeRule("plan.mbi", PhiType::kHealthPlan,
                       "\\b[1-9][A-Z][A-Z0-9]\\d-?[A-Z][A-Z0-9]\\d-?[A-Z]{2}\\d{2}\\b",
                       Validator::kMbi, 0.85, 0.97, plan_ctx, false));
  r.push_back(MakeRule("plan.member", PhiType::kHealthPlan, "\\b[A-Z]{0,4}\\d{6,14}\\b",
                       Validator::kHasDigit, 0.1, 0.85, plan_ctx));
  r.push_back(MakeRule("plan.member_alnum", PhiType::kHealthPlan,
                       "\\b[A-Z]{1,4}[ \\-]?\\d{3,8}[ \\-]?[A-Z0-9]{2,6}\\b", Validator::kHasDigit,
                       0.05, 0.8, plan_ctx));

  // Account numbers (J).
  r.push_back(MakeRule("account.digits", PhiType::kAccount, "\\b[A-Z]{0,3}\\d{6,17}\\b",
                       Validator::kHasDigit, 0.1, 0.85, account_ctx));
  r.push_back(MakeRule("account.grouped", PhiType::kAccount, "\\b\\d{2,6}(?:[ \\-]\\d{2,6}){1,3}\\b",
                       Validator::kHasDigit, 0.05, 0.8, account_ctx));

  // Vehicles (L).
  r.push_back(MakeRule("vehicle.vin", PhiType::kVehicle, "\\b[A-HJ-NPR-Z0-9]{17}\\b",
                       Validator::kVin, 0.9, 0.98, vehicle_ctx, false));
  r.push_back(MakeRule("vehicle.plate", PhiType::kVehicle,
                       "\\b(?:[A-Z]{1,3}[ \\-]?\\d{3,4}|\\d[A-Z]{3}\\d{3}|\\d{3}[ \\-]?[A-Z]{3})\\b",
                       Validator::kHasDigit, 0.05, 0.8,
                       {"plate", "plates", "tag", "tags", "registration", "reg"}));

  // Devices (M).
  r.push_back(MakeRule("device.imei", PhiType::kDevice,
                       "\\b(?:\\d{15}|\\d{2}[ \\-]\\d{6}[ \\-]\\d{6}[ \\-]\\d)\\b", Validator::kImei,
                       0.7, 0.97, device_ctx));
  r.push_back(MakeRule("device.mac", PhiType::kDevice,
                       "\\b[0-9A-F]{2}(?:[:\\-][0-9A-F]{2}){5}\\b", Validator::kNone, 0.85, 0.95,
                       device_ctx, false));
  r.push_back(MakeRule("device.serial", PhiType::kDevice,
                       "\\b[A-Z]{0,6}\\d[A-Z0-9\\-]{3,24}\\b", Validator::kHasDigit, 0.05,
                       0.8, device_ctx));
  r.push_back(MakeRule("device.udi", PhiType::kDevice,
                       "\\(01\\)\\d{14}(?:\\(\\d{2}\\)[A-Z0-9]{1,20}){0,4}", Validator::kNone, 0.9,
                       0.95, device_ctx, false));

  // Network identifiers (N, O).
  r.push_back(MakeRule("ip.v4", PhiType::kIp, "\\b\\d{1,3}\\.\\d{1,3}\\.\\d{1,3}\\.\\d{1,3}\\b",
                       Validator::kIpv4, 0.8, 0.95, ip_ctx));
  r.push_back(MakeRule("ip.v6", PhiType::kIp, "\\b[0-9A-F]{1,4}(?::[0-9A-F]{0,4}){2,7}\\b",
                       Validator::kIpv6, 0.8, 0.95, ip_ctx, false));
  r.push_back(MakeRule("email.address", PhiType::kEmail,
                       "[A-Z0-9._%+\\-]+ ?@ ?[A-Z0-9\\-]+(?:\\.[A-Z0-9\\-]+)*\\.[A-Z]{2,24}\\b",
                       Validator::kEmail, 0.95, 0.98, {}, false));
  const char* url_chars = "[^\\s<>\"'()\\[\\]{}]";
  r.push_back(MakeRule("url.scheme", PhiType::kUrl,
                       std::string("\\b(?:https?|ftp)://") + url_chars + "+", Validator::kUrl,
                       0.3, 0.75, url_ctx, false));
  r.push_back(MakeRule("url.www", PhiType::kUrl,
                       std::string("\\bwww\\.[A-Z0-9\\-]+(?:\\.[A-Z0-9\\-]+)+(?:/") + url_chars +
                           "*)?",
                       Validator::kUrl, 0.3, 0.75, url_ctx, false));
  r.push_back(MakeRule("url.bare", PhiType::kUrl,
                       std::string("\\b[A-Z0-9\\-]+(?:\\.[A-Z0-9\\-]+)*\\.(?:com|org|net|edu|gov|io|"
                                   "us|info|test|example|health|me)/") +
                           url_chars + "*",
                       Validator::kUrl, 0.3, 0.75, url_ctx, false));

  // Dates (C): a date is PHI when it is tied to a person, which in chat shows as a context word.
  r.push_back(MakeRule("date.mdy", PhiType::kDate,
                       "\\b\\d{1,2}[/\\-.]\\d{1,2}[/\\-.](?:\\d{4}|\\d{2})\\b",
                       Validator::kDateNumeric, 0.4, 0.92, date_ctx));
  r.push_back(MakeRule("date.ymd", PhiType::kDate,
                       "\\b(?:19|20)\\d{2}[/\\-.]\\d{1,2}[/\\-.]\\d{1,2}\\b",
                       Validator::kDateNumeric, 0.4, 0.92, date_ctx));
  r.push_back(MakeRule("date.md", PhiType::kDate, "\\b\\d{1,2}/\\d{1,2}\\b",
                       Validator::kDateNumeric, 0.1, 0.85, date_ctx));
  r.push_back(MakeRule("date.month_day", PhiType::kDate,
                       std::string("\\b") + kMonths +
                           "\\.?[ \\-]?\\d{1,2}(?:st|nd|rd|th)?\\b(?:,?[ \\-]?(?:19|20)\\d{2}\\b)?",
                       Validator::kDateWords, 0.3, 0.92, date_ctx));
  r.push_back(MakeRule("date.day_month", PhiType::kDate,
                       std::string("\\b\\d{1,2}(?:st|nd|rd|th)?(?: of)?[ \\-]?") + kMonths +
                           "\\b\\.?(?:,?[ \\-]?(?:19|20)\\d{2}\\b)?",
                       Validator::kDateWords, 0.3, 0.92, date_ctx));

  // Ages over 89 (C).
  r.push_back(MakeRule("age.years", PhiType::kAge,
                       "\\b\\d{2,3}[ \\-]?(?:y/?o|yo|yrs?|years?|yr)(?:[ \\-]old)?\\b",
                       Validator::kAge, 0.9, 0.95, {}, false));
  r.push_back(MakeRule("age.prefixed", PhiType::kAge, "\\bage[sd]?[ :]{0,2}\\d{2,3}\\b",
                       Validator::kAge, 0.9, 0.95, {}, false));

  // ZIP codes and addresses (B).
  r.push_back(MakeRule("zip.state", PhiType::kZip,
                       std::string("\\b") + kStates + ",? \\d{5}(?:-\\d{4})?\\b",
                       Validator::kZipAfterState, 0.85, 0.95, zip_ctx, false));
  r.push_back(MakeRule("zip.plus4", PhiType::kZip, "\\b\\d{5}-\\d{4}\\b", Validator::kNone, 0.75,
                       0.95, zip_ctx));
  r.push_back(MakeRule("zip.context", PhiType::kZip, "\\b\\d{5}\\b", Validator::kNone, 0.05, 0.9,
                       zip_ctx));
  r.push_back(MakeRule(
      "address.street", PhiType::kAddress,
      std::string("\\b\\d{1,6}[A-Z]? (?:[NSEW]\\.? )?(?:[A-Z][A-Z'\\-]*|\\d{1,3}(?:st|nd|rd|th))"
                  "(?: [A-Z][A-Z'\\-]*){0,3} ") +
          kStreetSuffix +
          "\\b\\.?(?:,? (?:apt|apartment|unit|ste|suite|fl|floor|rm|room|bldg|#)\\.? ?#?[A-Z0-9\\-]{1,5}\\b)?",
      Validator::kStreet, 0.85, 0.95, address_ctx));
  r.push_back(MakeRule("address.pobox", PhiType::kAddress, "\\bP\\.? ?O\\.? ?Box \\d{1,6}\\b",
                       Validator::kNone, 0.9, 0.95, address_ctx, false));
  Rule city = MakeRule("address.city", PhiType::kAddress,
                       std::string("\\b[A-Z][a-z]+(?: [A-Z][a-z]+)?, ?") + kStates + "\\b",
                       Validator::kCity, 0.8, 0.9, address_ctx, false);
  city.caseless = false;
  r.push_back(std::move(city));
  r.push_back(MakeRule("address.city_zip", PhiType::kAddress,
                       std::string("\\b[A-Z]+(?: [A-Z]+)?,? ") + kStates + ",? \\d{5}\\b",
                       Validator::kCity, 0.75, 0.9, address_ctx, false));
  return set;
}

}  // namespace rounds::governance::phi
