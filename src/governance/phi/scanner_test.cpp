#include "governance/phi/scanner.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <initializer_list>
#include <string_view>
#include <thread>

namespace rounds::governance::phi {
namespace {

std::shared_ptr<PatientIndex> TestIndex() {
  auto index = std::make_shared<PatientIndex>();
  index->Replace(std::vector<PatientRecord>{{"48213377", "Maria", "Garcia"},
                                            {"55501234", "Ahmed", "Haddad"},
                                            {"31415926", "Mary Ann", "De La Cruz"},
                                            {"27182818", "Sean", "O'Brien"},
                                            {"11223344", "Hope", "Young"},
                                            {"E2045511", "Dmitri", "Kowalczyk"}});
  return index;
}

// A scanner over an index of `patients` alone.
std::unique_ptr<Scanner> ScannerWith(std::vector<PatientRecord> patients) {
  auto index = std::make_shared<PatientIndex>();
  index->Replace(patients);
  auto scanner = Scanner::Create(DefaultRuleSet(), index);
  EXPECT_TRUE(scanner);
  return scanner ? std::move(*scanner) : nullptr;
}

// The findings of `text`, each as "TYPE:text".
std::vector<std::string> FindingsOf(const Scanner& scanner, const std::string& text) {
  std::vector<std::string> out;
  for (const Finding& f : scanner.Scan(text)) {
    out.push_back(std::string(ToString(f.type)) + ":" + text.substr(f.begin, f.end - f.begin));
  }
  return out;
}

class PhiScannerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    index_ = TestIndex();
    auto scanner = Scanner::Create(DefaultRuleSet(), index_);
    ASSERT_TRUE(scanner) << scanner.error().public_message;
    scanner_ = std::move(*scanner);
  }
  // The text of each finding, as "TYPE:text".
  std::vector<std::string> Found(const std::string& text) const { return FindingsOf(*scanner_, text); }
  // Each case's expected "TYPE:text" is among the findings of its text.
  template <std::size_t N>
  void ExpectFinds(const struct Positive (&cases)[N]) const;
  // Each text yields no finding at all.
  template <class Texts>
  void ExpectNone(const Texts& texts) const {
    for (const char* text : texts) {
      EXPECT_TRUE(scanner_->Scan(text).empty()) << text << " -> " << ::testing::PrintToString(Found(text));
    }
  }
  void ExpectNone(std::initializer_list<const char*> texts) const {
    ExpectNone<std::initializer_list<const char*>>(texts);
  }
  std::shared_ptr<PatientIndex> index_;
  std::unique_ptr<Scanner> scanner_;
};

struct Positive {
  const char* text;
  const char* expected;  // "TYPE:text" that must be among the findings
};

template <std::size_t N>
void PhiScannerTest::ExpectFinds(const Positive (&cases)[N]) const {
  for (const auto& c : cases) {
    const auto found = Found(c.text);
    EXPECT_NE(std::find(found.begin(), found.end(), c.expected), found.end())
        << c.text << " -> " << ::testing::PrintToString(found);
  }
}

TEST_F(PhiScannerTest, FindsEachIdentifierType) {
  const Positive cases[] = {
      // names from the index: order, case, punctuation, middle initials, context
      {"pt Maria Garcia in bed 4", "NAME:Maria Garcia"},
      {"GARCIA, MARIA dob pending", "NAME:GARCIA, MARIA"},
      {"saw maria l. garcia today", "NAME:maria l. garcia"},
      {"Mary Ann De La Cruz called", "NAME:Mary Ann De La Cruz"},
      {"De La Cruz, Mary Ann is here", "NAME:De La Cruz, Mary Ann"},
      {"seen by Sean O'Brien's family", "NAME:Sean O'Brien"},
      {"Mrs. Haddad asked for water", "NAME:Haddad"},
      {"pt garcia refuses meds", "NAME:garcia"},
      {"Ms. Young is asking for you", "NAME:Young"},
      // dates tied to a person
      {"DOB 03/14/1962", "DATE:03/14/1962"},
      {"born March 14, 1962 in Ohio", "DATE:March 14, 1962"},
      {"admitted 2024-11-02 for pneumonia", "DATE:2024-11-02"},
      {"d.o.b. 3/14/62", "DATE:3/14/62"},
      {"discharged 14th Mar", "DATE:14th Mar"},
      {"seen 6/4 in clinic", "DATE:6/4"},
      // ages over 89
      {"a 93 y/o woman", "AGE:93"},
      {"pt is 101 years old", "AGE:101"},
      {"age: 97", "AGE:97"},
      // phones and faxes, however they are typed
      {"call me at (617) 555-0142", "PHONE:(617) 555-0142"},
      {"cell 617.555.0142", "PHONE:617.555.0142"},
      {"fax +1 212 555 0199 attn billing", "PHONE:+1 212 555 0199"},
      {"cb 6 1 7 5 5 5 0 1 4 2 pls", "PHONE:6 1 7 5 5 5 0 1 4 2"},
      {"reach her 617555 0142", "PHONE:617555 0142"},
      {"call 555-0142 after 5", "PHONE:555-0142"},
      // e-mail, URL, IP
      {"email jane.doe42@example.com please", "EMAIL:jane.doe42@example.com"},
      {"write to jane @example.org today", "EMAIL:jane @example.org"},
      {"my blog https://www.example.org/~mgarcia.", "URL:https://www.example.org/~mgarcia"},
      {"see example.net/family/garcia?id=4821", "URL:example.net/family/garcia?id=4821"},
      {"login from 192.0.2.15 at night", "IP:192.0.2.15"},
      {"from 2001:db8::8a2e:370:7334 today", "IP:2001:db8::8a2e:370:7334"},
      // SSN
      {"SSN 987-65-4321", "SSN:987-65-4321"},
      {"ssn is 987654321", "SSN:987654321"},
      {"social 123 45 6789", "SSN:123 45 6789"},
      {"her number 123-45-6789 on the form", "SSN:123-45-6789"},
      // MRN: by context, by the index, with a prefix
      {"MRN 00481234", "MRN:00481234"},
      {"chart 7734 2210 please", "MRN:7734 2210"},
      {"can you check 48213377 for me", "MRN:48213377"},
      {"labs for MRN48213377", "MRN:48213377"},
      // health plan, account, card
      {"Medicare 1EG4-TE5-MK73", "HEALTH_PLAN:1EG4-TE5-MK73"},
      {"member id XJH123456789", "HEALTH_PLAN:XJH123456789"},
      {"acct 4829103355 on file", "ACCOUNT:4829103355"},
      {"paid with 4111 1111 1111 1111", "CARD:4111 1111 1111 1111"},
      {"amex 3782-822463-10005", "CARD:3782-822463-10005"},
      // licences: DEA, NPI, driver's licence
      {"DEA AB1234563", "LICENSE:AB1234563"},
      {"NPI 1234567893", "NPI:1234567893"},
      {"driver's license S1234567", "LICENSE:S1234567"},
      // vehicles and devices
      {"VIN 1HGCM82633A004352 in the lot", "VEHICLE:1HGCM82633A004352"},
      {"license plate 7ABC123", "VEHICLE:7ABC123"},
      {"IMEI 490154203237518", "DEVICE:490154203237518"},
      {"pacemaker serial PM4821977", "DEVICE:PM4821977"},
      {"mac 00:1A:2B:3C:4D:5E", "DEVICE:00:1A:2B:3C:4D:5E"},
      // places
      {"lives at 42 Maple St, Apt 3B", "ADDRESS:42 Maple St, Apt 3B"},
      {"moved to 1200 N Harbor View Blvd", "ADDRESS:1200 N Harbor View Blvd"},
      {"Springfield, MA 01101", "ADDRESS:Springfield"},
      {"Springfield, MA 01101", "ZIP:01101"},
      {"zip 02115-1234", "ZIP:02115-1234"},
      {"PO Box 4412", "ADDRESS:PO Box 4412"},
  };
  for (const Positive& c : cases) {
    const auto found = Found(c.text);
    EXPECT_NE(std::find(found.begin(), found.end(), c.expected), found.end())
        << c.text << " -> expected " << c.expected << ", found " << ::testing::PrintToString(found);
  }
}

TEST_F(PhiScannerTest, LeavesHardNegativesAlone) {
  const char* cases[] = {
      "BP 120/80 HR 88 RR 18 SpO2 97%",
      "metoprolol 25 mg PO BID, heparin 5000 units SC q8h",
      "K 4.1, Na 138, Hgb 11.2, WBC 12.5, A1c 7.2, INR 2.3, Cr 1.2, trop 0.04",
      "Dx E11.9 and I10, hx J18.9, Z79.4",
      "67 y/o M with CHF, 45yo F with asthma",
      "she has had diabetes since 2019",
      "order 1234567897 is stuck in verification",  // passes Luhn, still an order number
      "pain 7/10, GCS 14, Apgar 8/9, strength 4/5",
      "NDC 0002-8215-01, lot 4F72K, CPT 99213",
      "Dr. Garcia is covering tonight",            // a staff surname without a first name
      "ask Maria, she knows",                      // a first name alone
      "pt young and otherwise healthy",            // a surname that is also a word
      "may need extra hands, will call you back",
      "Texas and California both have the program",
      "staff meeting moved to 3/14 at 1400",
      "I/O: in 1200 mL, out 850 mL; weight 82.4 kg",
      "thanks, MD",
      "ABG 7.38/42/88 on FiO2 40%",
      "v1.2.3.4 is installed",
      "the meeting is at 14:30:05",
      "Meds apixaban 5 mg BID\nICD-10 S72001A",  // the code system, not an implanted ICD
      "67 yo male Ann Lane w/ G47.33",            // an age before a name, not a house number
      "bed 123 is free, ext 4455",
      "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 24 24\">",  // a namespace
      "thanks @umar.siddiqui for covering",       // a mention of a dotted username
      "ok @amara.okafor, see you at 7",
  };
  ExpectNone(cases);
}

// Names typed in a hurry: one slip in the first or the last name, beside the other typed exactly.
// All of these were missed while the index matched names only letter for letter.
TEST_F(PhiScannerTest, FindsANameWithOneTypingSlipBesideAnExactOne) {
  const Positive cases[] = {
      {"pt Maria Garica in bed 4", "NAME:Maria Garica"},
      {"Mraia Garcia called back", "NAME:Mraia Garcia"},
      {"GARICA, MARIA dob pending", "NAME:GARICA, MARIA"},
      {"Garcia, Mraia is here", "NAME:Garcia, Mraia"},
      {"dmitri kowalczik needs a ride", "NAME:dmitri kowalczik"},
      {"saw maria l. garcai today", "NAME:maria l. garcai"},
      {"Ahmed Hadad refused lunch", "NAME:Ahmed Hadad"},
      {"Ahmed Haddadd refused lunch", "NAME:Ahmed Haddadd"},
      {"Dmtiri Kowalczyk is asking for you", "NAME:Dmtiri Kowalczyk"},
      {"Marria L. Garcia called", "NAME:Marria L. Garcia"},
      {"Dmitri Kowalcyzk (Kowalczyk family) called", "NAME:Kowalczyk"},
      // the slipped name written again is the same person's
      {"Maria Garica (Garica household) called", "NAME:Garica"},
  };
  ExpectFinds(cases);
  for (const char* text : {
           "Maria wants her tea",              // capitalized name, lower-case word
           "Maria Garza is covering",          // no slip of Garcia: two letters apart
           "Maria Harcia",                     // the first letter differs
           "hope yuong people call",           // a common word, not capitalized
           "Ahmed Hadid from transport",       // Hadid is two slips from Haddad
           "Maria\nGarica",                   // on separate lines
           "Dr. Gracia called",                // no first name beside it
       }) {
    const auto found = Found(text);
    EXPECT_TRUE(std::none_of(found.begin(), found.end(),
                             [](const std::string& f) { return f.rfind("NAME:", 0) == 0; }))
        << text << " -> " << ::testing::PrintToString(found);
  }
  // Lower-case chat around patients whose surnames are one slip from common words: none of it is
  // a name, and a word once taken for a slip is not found again wherever it stands.
  const auto saad = ScannerWith({{"40000001", "Maria", "Saad"}, {"40000002", "Sarah", "Knox"}});
  ASSERT_TRUE(saad);
  for (const char* text : {"maria said she'd call. dr lee said ok", "let sarah know, i don't know",
                           "sarah i know", "maria a said"}) {
    EXPECT_TRUE(FindingsOf(*saad, text).empty()) << text << " -> " << ::testing::PrintToString(FindingsOf(*saad, text));
  }
  // A "Last, First" with a slip keeps its middle initial.
  EXPECT_EQ(Found("GARCIA, MRAIA L"), std::vector<std::string>{"NAME:GARCIA, MRAIA L"});
}

// Names as they were missed when staff typed them: a double surname by one of its parts, a hyphenated
// given name with a space, a surname of several words after a title, a surname before a word for
// family, and a handle made of a patient's name.
TEST(PhiScanner, FindsNamesByTheirPartsTitlesFamiliesAndHandles) {
  const auto scanner = ScannerWith({{"31415926", "Anna-Lise", "Van der Berg"},
                                    {"12312312", "Siobhan", "McAllister-Reyes"},
                                    {"66602222", "Jean-Luc", "D'Angelo"},
                                    {"48213377", "Maria", "Garcia"},
                                    {"27182818", "Sean", "O'Brien"},
                                    {"11223344", "Hope", "Young"}});
  ASSERT_TRUE(scanner);
  auto names = [&](const std::string& text) {  // the names found, without their type
    std::vector<std::string> out;
    for (const std::string& f : FindingsOf(*scanner, text)) {
      if (f.rfind("NAME:", 0) == 0) out.push_back(f.substr(5));
    }
    return out;
  };
  const std::pair<const char*, const char*> cases[] = {
      {"Siobhan McAllister in 3", "Siobhan McAllister"},
      {"Siobhan Reyes called", "Siobhan Reyes"},
      {"Siobhan McAllister-Reyes called", "Siobhan McAllister-Reyes"},
      {"Anna Lise Van der Berg is here", "Anna Lise Van der Berg"},
      {"Jean Luc D'Angelo fell", "Jean Luc D'Angelo"},
      {"jean luc dangelo fell", "jean luc dangelo"},
      {"Ms. Van der Berg is asking", "Van der Berg"},
      {"pt van der berg to CT", "van der berg"},
      {"Garcia family at bedside", "Garcia"},
      {"Garcia fmily at bedside", "Garcia"},  // the word for family typed with a slip
      {"O'Brien's wife called", "O'Brien"},
      {"pls call o'brien's wife", "o'brien"},
      {"maria.garcia is the pt", "maria.garcia"},
      {"ask for maria_garcia at the desk", "maria_garcia"},
      // a middle initial after "Last, First" and after a context name
      {"GARCIA, MARIA L", "GARCIA, MARIA L"},
      {"pt Garcia, M. in 4", "Garcia, M."},
      {"Mrs. Garcia M. to CT", "Garcia M."},
      {"pt Garcia I think", "Garcia"},
      {"pt Garcia K 3.1 this am", "Garcia"},  // a lab's letter, not an initial
      {"pt Garcia C diff neg", "Garcia"},
      // a surname joined to another, the index knowing one part
      {"Maria Garcia-Lopez in bed 3", "Maria Garcia-Lopez"},
      {"Maria Lopez-Garcia called", "Maria Lopez-Garcia"},
      {"Maria L. Garcia-Lopez to CT", "Maria L. Garcia-Lopez"},
  };
  for (const auto& [text, name] : cases) {
    EXPECT_EQ(names(text), std::vector<std::string>{name}) << text;
  }
  for (const char* text : {"Dr. Garcia's wife brought cake", "nurse Garcia's family is visiting",
                           "the foster family will pick her up",  // a surname that is a word
                           "young family in room 4", "Young family in room 4", "Garcia is covering", "Reyes called",
                           "Siobhan called", "the berg family", "hope young-adult group",
                           "Hope follow-up today"}) {
    EXPECT_TRUE(names(text).empty()) << text << " -> " << ::testing::PrintToString(names(text));
  }
}

// A person named in full after a word that makes it a patient or a patient's relative or contact,
// though no patient in the index has both names: a relative (Safe Harbor's names include
// theirs), or a patient not yet in the index. Both names must be ones the index knows, and in
// lower case neither may be a word the scanner knows.
TEST_F(PhiScannerTest, FindsAFirstAndLastNameAfterAContextWordThoughNoPatientHasBoth) {
  const Positive cases[] = {
      {"pt Ahmed Garcia in bed 4", "NAME:Ahmed Garcia"},
      {"Patient Sean Kowalczyk was admitted yesterday", "NAME:Sean Kowalczyk"},
      {"re: Dmitri Haddad, labs back", "NAME:Dmitri Haddad"},
      {"the patient, Maria De La Cruz, is in 5B", "NAME:Maria De La Cruz"},
      {"pt ahmed garcia refuses meds", "NAME:ahmed garcia"},
      {"pt's son (Sean Haddad) called for an update", "NAME:Sean Haddad"},
      {"spoke with his wife, Maria Kowalczyk, she will pick him up", "NAME:Maria Kowalczyk"},
      {"next of kin: Dmitri Garcia, call first", "NAME:Dmitri Garcia"},
      {"Emergency contact: Ahmed O'Brien (brother)", "NAME:Ahmed O'Brien"},
      {"guardian Sean Garcia signed the consent", "NAME:Sean Garcia"},
      // one of the two typed with a slip, both capitalized; a surname that is also a word, in
      // lower case after a first name that is none
      {"pt's son (Seaan Haddad) called", "NAME:Seaan Haddad"},
      {"Next of kin: Dmitri Garcai, phone on file", "NAME:Dmitri Garcai"},
      {"son ahmed young called again", "NAME:ahmed young"},
      // who writes, in full
      {"my name is Sean Haddad and I need a refill", "NAME:Sean Haddad"},
      {"I'm Dmitri Garcia, calling about my results", "NAME:Dmitri Garcia"},
      {"hello, I am Ahmed Kowalczyk", "NAME:Ahmed Kowalczyk"},
  };
  ExpectFinds(cases);
  // Not after a title for staff, nor without a context word, nor words the scanner knows in lower
  // case ("hope" and "young" are words), nor a first name alone, nor after "contact" as a verb.
  // A slip only capitalized: "son Ahmed wants an update" names Ahmed alone.
  ExpectNone({"son Ahmed wants an update", "son ahmed wnats an update", "I'm Ahmed, the new charge nurse",
              "Hi this is Sean Haddad from pharmacy"});
  ExpectNone({"Dr Ahmed Garcia is covering", "Ahmed Garcia is covering", "pt hope haddad and well", "pt will young and well",
              "pt Ahmed is asking for water", "Patient Safety Committee meets today", "her son Sean is here",
              "pls contact Ahmed Garcia in IT about the printer", "son Garcia"});
}

// Safe Harbor takes ages over 89 and every element of a date that shows one, the year too: an age
// spelled out ("ninety-four years old"), and a year of birth at least ninety years back.
TEST_F(PhiScannerTest, FindsAgesOver89InWordsAndTheYearsOfBirthThatShowThem) {
  const Positive cases[] = {
      {"pt is ninety-four years old", "AGE:ninety-four"},
      {"ninety four yo female, fall at home", "AGE:ninety four"},
      {"aged one hundred and one", "AGE:one hundred and one"},
      {"she turned ninety last week", "AGE:ninety"},
      {"a hundred years old on Sunday", "AGE:hundred"},
      {"she turned a hundred on Sunday", "AGE:hundred"},
      {"aged a hundred and two", "AGE:hundred and two"},
      {"he was born in 1921", "DATE:1921"},
      {"DOB 1928, lives alone", "DATE:1928"},
      {"b. 1929", "DATE:1929"},
      {"year of birth: 1925", "DATE:1925"},
      {"she was bonr in 1915", "DATE:1915"},  // the context word typed with a slip
      {"mom turned ninety", "AGE:ninety"},      // at the very end
      {"she is ninety-four and still drives", "AGE:ninety-four"},
      {"aged a hundred and", "AGE:hundred"},
  };
  ExpectFinds(cases);
  // A year of birth of someone under 90, a year of something else, numbers in words that are no
  // age, and an age under 90 in words.
  ExpectNone({"born in 1990", "since 1930 the hospital has", "room 1921 is free", "ninety years of service",
              "ninety-four patients on the list", "the hundred-year flood", "she is eighty-five years old",
              "born\n1921", "the clinic opened in 1926 and turns a hundred this year", "told him a hundred times",
              "the bill is ninety dollars", "she is ninety percent sure", "he is ninety kg"});
}

// The last four digits of an SSN are part of the identifier, which HHS counts as the identifier:
// masked but for them, or said to be them.
TEST_F(PhiScannerTest, FindsTheLastFourDigitsOfAnSsnMaskedOrSaid) {
  const Positive cases[] = {
      {"SSN: xxx-xx-4321 on the form", "SSN:xxx-xx-4321"},
      {"his social is XXX-XX-4320", "SSN:XXX-XX-4320"},
      {"***-**-4329 per registration", "SSN:***-**-4329"},
      {"ssn ###-##-4325", "SSN:###-##-4325"},
      {"verified with the last 4 of her SSN 4321", "SSN:4321"},
      {"SSN last four 4327, photo ID on file", "SSN:4327"},
      {"my social ends in 4328 if you need it", "SSN:4328"},
      {"caller gave ssn ending 4326", "SSN:4326"},
      {"social security number ending in 4324", "SSN:4324"},
      {"last four of his social: 4323", "SSN:4323"},
      {"my social ens in 4211 if you need it", "SSN:4211"},  // the cue typed with a slip
      {"checked the lsat 4 of her SSN 9463", "SSN:9463"},
      {"socail security ending 4322", "SSN:4322"},
  };
  ExpectFinds(cases);
  // "last 4", "ending", "social" and four digits that are no one's SSN; a mask with no digits; a
  // mask run into a word; the cue in another sentence.
  ExpectNone({"last 4 doses of heparin at 1200", "Social work ends the group at 1530", "shift ending 1900",
              "card ending in 4242", "format is xxx-xx-xxxx", "boxxx-xx-4321", "social media post at 1015",
              "SSN on file. Last 4 visits at 0900", "xx/xx/1950", "last 4 of the MRN 4321",
              "her son called, his shift ending 1900"});
}

// A street named without its house number where someone lives is a place smaller than a state:
// after a word for living there and "on", "off", "at", "to" or "near".
TEST_F(PhiScannerTest, FindsAStreetNamedWithoutItsNumberWhereSomeoneLives) {
  const Positive cases[] = {
      {"Pt lives on Maple Ave in Brookline", "ADDRESS:Maple Ave"},
      {"she moved to Elm Street last year", "ADDRESS:Elm Street"},
      {"lives just off Old Mill Rd", "ADDRESS:Old Mill Rd"},
      {"he lives on maple ave", "ADDRESS:maple ave"},
      {"living near Cedar Ridge Dr", "ADDRESS:Cedar Ridge Dr"},
      {"his address is Pine Ct", "ADDRESS:Pine Ct"},
  };
  ExpectFinds(cases);
  ExpectNone({"meet me on Main St for lunch", "the clinic on Elm Street is closed", "lives on the 3rd floor",
              "she lives on her own now", "moved to Dr Lee's service", "lives on\nElm Street"});
}

// The numbers of a claim, a bill or a prescription are unique identifying numbers too.
TEST_F(PhiScannerTest, FindsClaimBillAndPrescriptionNumbers) {
  const Positive cases[] = {
      {"claim number 1234567890123 was denied", "ACCOUNT:1234567890123"},
      {"prescription # 1234567 is ready", "ACCOUNT:1234567"},
      {"CSN 123456789 for the encounter", "ACCOUNT:123456789"},
  };
  ExpectFinds(cases);
  ExpectNone({"rx 10000 units heparin", "claim 3 of 4 approved"});
}

// Found whole now; each was missed or left in pieces: addresses spelled out so that no program
// reads them, MAC addresses grouped by dashes or dots, and a ZIP after a state's name in full.
TEST_F(PhiScannerTest, FindsSpelledAddressesGroupedMacsAndZipsAfterAStatesName) {
  const Positive cases[] = {
      {"email: sean dot obrien at example dot com", "EMAIL:sean dot obrien at example dot com"},
      {"email maria[at]example.com", "EMAIL:maria[at]example.com"},
      {"email maria(at)example.com", "EMAIL:maria(at)example.com"},
      {"email maria at example.com", "EMAIL:maria at example.com"},
      {"email is maria . garcia @ example . com", "EMAIL:maria . garcia @ example . com"},
      {"write to j_smith at example dot org please", "EMAIL:j_smith at example dot org"},
      {"or r.lee [at] example [dot] net", "EMAIL:r.lee [at] example [dot] net"},
      {"Her email:\nsean dot obrien at example dot com", "EMAIL:sean dot obrien at example dot com"},
      {"pump mac-00-1A-2B-3C-4D-5E", "DEVICE:mac-00-1A-2B-3C-4D-5E"},  // with its label's serial reading
      {"device...001A.2B3C.4D5E", "DEVICE:001A.2B3C.4D5E"},
      {"mac address 00-1A-2B-3C-4D-5E", "DEVICE:00-1A-2B-3C-4D-5E"},
      {"her monitor mac 001A.2B3C.4D5E", "DEVICE:001A.2B3C.4D5E"},
      {"Boston, Massachusetts 02115", "ZIP:02115"},
      {"Albany, New York 12207", "ZIP:12207"},
      // "code" labels the number after it, except where it ends "zip code"
      {"her zip code is 02115", "ZIP:02115"},
      {"postal code 02115", "ZIP:02115"},
  };
  ExpectFinds(cases);
  ExpectNone({"we met at example.com's booth", "look at this dot plot",
                           "the dot at 3 o'clock", "Texas 2024 results", "page me at 4412",
                           "ask at the front desk dot", "lot 12-34-56 expires", "billing code 99223",
                           "door code 4471 for the family lounge", "Family @ bedside. In good spirits.",
                           "I'll email you at noon. In the meantime rest"});
}

// Identifiers typed as they are printed or read aloud: a Medicare number or a VIN in spaced
// groups, a ZIP+4 without its dash, a serial with a trailing group of capitals, a date with its
// time, a post office box spelled out. Each was missed or left part of itself in the text before.
TEST_F(PhiScannerTest, FindsIdentifiersTypedInSpacedGroupsOrWithoutTheirDash) {
  const Positive cases[] = {
      {"MBI 1EG4 TE5 MK73", "HEALTH_PLAN:1EG4 TE5 MK73"},
      {"medicare id: 1eg4 te5 mk73", "HEALTH_PLAN:1eg4 te5 mk73"},
      {"Medicare # 1EG4-TE5 MK73 on file", "HEALTH_PLAN:1EG4-TE5 MK73"},
      {"mbi 1EG4 TE5 MK73 and 5 more", "HEALTH_PLAN:1EG4 TE5 MK73"},
      {"VIN 1HGCM 82633 A004352", "VEHICLE:1HGCM 82633 A004352"},
      {"vin 1HG CM826 33A 004352", "VEHICLE:1HG CM826 33A 004352"},
      {"Boston MA 021151234", "ZIP:021151234"},
      {"her zip 021151234", "ZIP:021151234"},
      {"serial SN 4512-3378-A", "DEVICE:4512-3378-A"},
      {"acct 88123-B2 closed", "ACCOUNT:88123-B2"},
      {"device serial no. ABC-12345-XY", "DEVICE:ABC-12345-XY"},
      {"her zip 02115 1234", "ZIP:02115 1234"},
      // A date and time as systems print them: the date ends at the day.
      {"seen 2024-03-05T14:30 in ED", "DATE:2024-03-05"},
      {"dob 1961-03-04T00:00:00", "DATE:1961-03-04"},
      // A post office box however it is written; a box alone may be a locker's.
      {"Post Office Box 1234", "ADDRESS:Post Office Box 1234"},
      {"POB 4412", "ADDRESS:POB 4412"},
      {"pobox 77, Dayton", "ADDRESS:pobox 77"},
      {"please mail my records to PO Box 5687, Manchester", "ADDRESS:Manchester"},
      {"admitted 2019-01-27T122527Z to 5 West", "DATE:2019-01-27"},
      {"she read her Medicare number off the card: 1EG4 TE5 MK73", "HEALTH_PLAN:1EG4 TE5 MK73"},
  };
  ExpectFinds(cases);
  // A check character that does not fit, a word that names no such identifier, a serial's group
  // that is a word, a box alone, a fraction of years or a ratio.
  ExpectNone({"VIN 1HGCM 82633 A004353", "medicare pt 2 bags 10 mg", "ref 1EG4 TE5 MK73 abc", "box 4412",
              "dx HTN 1/2 yrs ago", "admission 1/1 ratio", "the 5T4 lesion"});
  EXPECT_EQ(Found("device serial 4512-3378-Apple"), std::vector<std::string>{"DEVICE:4512-3378"});
  EXPECT_EQ(Found("serial SN 4512-3378-Dr Smith"), std::vector<std::string>{"DEVICE:4512-3378"});
  // A 'T' splits a date from its time only after a whole "YYYY-MM-".
  EXPECT_EQ(Found("serial ABC-12T4567"), std::vector<std::string>{"DEVICE:ABC-12T4567"});
  EXPECT_EQ(Found("MRN 8812-04T5512"), std::vector<std::string>{"MRN:8812-04T5512"});
  // After a box only a gazetteer place is a town; nine digits after a state code only in an
  // address; "POB" before a duration is no box.
  EXPECT_EQ(Found("PO Box 12, sent today"), std::vector<std::string>{"ADDRESS:PO Box 12"});
  ExpectNone({"MD 123456789", "PA 987654321 called", "pob 2 days"});
  EXPECT_EQ(Found("serial ABC-12345-new pump"), std::vector<std::string>{"DEVICE:ABC-12345"});
  EXPECT_EQ(Found("born 3/4 year unknown"), std::vector<std::string>{"DATE:3/4"});
}

// A number spelled out digit by digit gets past a filter that reads digits: patients do it in
// forums. Nine digits are an SSN only after a word for one; counting aloud is no number.
TEST_F(PhiScannerTest, FindsPhoneNumbersAndSsnsSpelledOutDigitByDigit) {
  const Positive cases[] = {
      {"son's number is six one seven five five five zero one four three",
       "PHONE:six one seven five five five zero one four three"},
      {"call me at six one seven, five five five, oh one four three one more time",
       "PHONE:six one seven, five five five, oh one four three"},
      {"617 five five five 0143", "PHONE:617 five five five 0143"},
      {"ssn zero seven eight zero five one one two zero", "SSN:zero seven eight zero five one one two zero"},
      {"my social is 078 zero five one one two zero", "SSN:078 zero five one one two zero"},
      // The run without a piece at either end that is no part of the number.
      {"bed 4 six one seven five five five zero one four three", "PHONE:six one seven five five five zero one four three"},
      {"617 555 zero one four three", "PHONE:617 555 zero one four three"},
  };
  ExpectFinds(cases);
  // Counting, a list of rooms, nine digits far from the word for an SSN.
  ExpectNone({"one two three four five six seven eight nine ten", "room 4 one two three",
              "one or two of them, maybe three", "hospital main line x4021",
              "ten nine eight seven six five four three two one zero liftoff",
              "checked rooms two oh four, two oh five, two oh six, two oh seven",
              "ssn verified. zero seven eight zero five one one two zero"});
  // An extension after a word for a phone is a record number only right after the label.
  EXPECT_EQ(Found("MRN x4021"), std::vector<std::string>{"MRN:x4021"});
  EXPECT_EQ(Found("pt MRN is x40213"), std::vector<std::string>{"MRN:x40213"});
}

// Two readings of one span, and the reading that wins. Each case was read wrongly once: a number
// in international form whose digits pass Luhn was a card (the merge kept whichever reading
// sorted first); a device's serial with "pt" further on was a record number (the surer rule won
// over the nearer context word); a compact date beside "MRN" was a record number.
TEST_F(PhiScannerTest, TheNearerAndSurerReadingWins) {
  const Positive cases[] = {
      {"text me on +44 (0)20 7946 0345 if you are nearby", "PHONE:+44 (0)20 7946 0345"},
      {"cell +44 (0)20 7946 0345", "PHONE:+44 (0)20 7946 0345"},
      {"Implant record: device serial NS03309179, UDI-DI on file, pt Maria Garcia", "DEVICE:NS03309179"},
      {"DOB: 11FEB1989  MRN: 55551092", "DATE:11FEB1989"},
      {"dob: 27sep2005  mrn: 5711-5269", "DATE:27sep2005"},
  };
  ExpectFinds(cases);
  // A card is still a card.
  EXPECT_EQ(Found("card 4111 1111 1111 1111 on file"), std::vector<std::string>{"CARD:4111 1111 1111 1111"});
}

// A label ("bed", "room", "order") keeps the number it labels from reading as an identifier, and
// only that number: the phone after "bed 4" is a phone, and so is one grouped as only phone numbers
// and SSNs are, right after a label. These were missed once: one line of a pasted call list,
// "bed 3: 617-555-0113", found nothing.
TEST_F(PhiScannerTest, ALabelGuardsOnlyTheNumberItLabels) {
  const Positive cases[] = {
      {"bed 3: 617-555-0113", "PHONE:617-555-0113"},
      {"bed 3 617-555-0113", "PHONE:617-555-0113"},
      {"room 12 617.555.0142", "PHONE:617.555.0142"},
      {"bed 4 6175550142", "PHONE:6175550142"},
      {"bed 4 987-65-4321", "SSN:987-65-4321"},
      {"room: 617-555-0113", "PHONE:617-555-0113"},
      {"rm 4, call son 1-617-555-0142", "PHONE:1-617-555-0142"},
  };
  ExpectFinds(cases);
  // What the labels are for still holds.
  ExpectNone({"bed 4", "room 4412", "order 6175550142", "ext 5550142", "BP 120 / 80", "rm 555-0142"});
}

TEST_F(PhiScannerTest, FindsTownsRepeatedNamesAndZipsTypedInPieces) {
  const Positive cases[] = {
      // gazetteer towns after a preposition, before a state code, after a street line
      {"Rohan Watkins from Kingston - diagnosed 2025-09-12", "ADDRESS:Kingston"},
      {"still walking every day. from greenville, va", "ADDRESS:greenville"},
      {"living in oak grove, or with copd", "ADDRESS:oak grove"},
      {"address 2911 Jefferson Ln Glenwood", "ADDRESS:Glenwood"},
      {"7489 church avenue unit 170 pleasant hill or 94376", "ADDRESS:pleasant hill"},
      // a lower-case state that is also a word, after a town or a street line
      {"7489 church avenue unit 170 pleasant hill or 94376", "ZIP:94376"},
      {"5260 union lane dayton mo 15167", "ZIP:15167"},
      // ZIP+4 typed digit by digit
      {"moved to Bristol, MI 2 3 9 5 9-6 6 4 3, please update", "ZIP:2 3 9 5 9-6 6 4 3"},
      // the nearest context word decides between two valid readings
      {"social sec no 470024485; driver license 265376701", "LICENSE:265376701"},
      // a matched name written again, and a record's LAST FIRST without the comma
      {"Spouse called for Maria L. Garcia (Garcia household)", "NAME:Garcia"},
      {"Garcia Maria MRN 48213377 adm 07.24.2022", "NAME:Garcia Maria"},
  };
  ExpectFinds(cases);
  // Precision: a known word before a number is no plate; a MAC address is no city and state.
  const auto vehicle = Found("car tags 4ZLN695, driver age 102");
  EXPECT_EQ(vehicle, (std::vector<std::string>{"VEHICLE:4ZLN695", "AGE:102"}));
  EXPECT_EQ(Found("license plate REF 049"), (std::vector<std::string>{"VEHICLE:REF 049"}));
  EXPECT_EQ(Found("home monitor MAC CA:83:D3:89:10:8C"),
            (std::vector<std::string>{"DEVICE:CA:83:D3:89:10:8C"}));
  const auto repeated = Found("Spouse called for Maria L. Garcia (Garcia household)");
  EXPECT_EQ(repeated.size(), 2u) << ::testing::PrintToString(repeated);
  const char* negatives[] = {
      "the Madison clinic is closed",          // a town name without a preposition or state
      "Springfield or Dover, either works",    // a lower-case "or" is no state code
      "pt young, sent home; Young was the resident",  // no name matched: nothing repeats
  };
  ExpectNone(negatives);
}

// Clinical shorthand and patient-list lines a probe of chat as staff type it found missed or
// misread: ages in "92F" and "she is 93", whole dates on a patient's line, record numbers with
// letters, "2/2" meaning "secondary to", fractions and scores beside a word that dates things.
TEST_F(PhiScannerTest, ReadsClinicalShorthandAsStaffTypeIt) {
  const Positive cases[] = {
      {"92F with UTI, afebrile", "AGE:92"},
      {"95M w/ fall at home", "AGE:95"},
      {"91yoM s/p hip fx", "AGE:91"},
      {"Maria Garcia, 92F", "AGE:92"},
      {"94m c/o sob, in 4", "AGE:94"},
      {"ok\n102f c/o sob since am", "AGE:102"},
      {"Full code 92F w/ CHF", "AGE:92"},  // a code status is no measurement
      {"she is 95 code status DNR", "AGE:95"},
      {"she is 93 and lives alone", "AGE:93"},
      {"Lives alone. She is 93.", "AGE:93"},
      {"he turns 100 tomorrow", "AGE:100"},
      {"Maria Garcia 03/04/1961", "DATE:03/04/1961"},
      {"Garcia, Maria 3/4/1961", "DATE:3/4/1961"},
      {"Sean O'Brien 3/4/61 needs labs", "DATE:3/4/61"},
      {"Garcia, Maria 48213377 3/4/61", "DATE:3/4/61"},
      {"MRN E2045511", "MRN:E2045511"},
      {"mrn: ab123456 pls", "MRN:ab123456"},
      {"chart # A00012345 pls", "MRN:A00012345"},
      {"labs back on E2045511", "MRN:E2045511"},
      {"pt e2045511 in 4B", "MRN:e2045511"},
      {"DOD 05/06/2024", "DATE:05/06/2024"},
      {"email ruth.o'neil@example.com", "EMAIL:ruth.o'neil@example.com"},
      {"admitted 2/2 for CP", "DATE:2/2"},
      {"seen 6/4 in clinic", "DATE:6/4"},
  };
  ExpectFinds(cases);
  const char* negatives[] = {
      "admitted 2/2 sepsis", "surgery delayed 2/2 INR", "fell 2/2 weakness",
      "CT 2/2 concern for PE", "dc 2/2 insurance",
      "ordered CT 1/2 hr ago", "scan 1/2 done", "MRI 3/4 done", "surgery went 3/4 of the way",
      "ED 1/2 full", "visited 3/3 patients on the list", "onset 3/7 ago",
      "pain 8/10 since surgery", "visit 10/10 pain", "delivered at 0412, apgars 8/9",
      "born 8/10 lbs",
      "temp 101F overnight", "spiked to 102F", "febrile 103F", "Tmax 101F",
      "ran 100m in the hall", "100m with the walker", "100m w/ RW", "101f with chills overnight", "she is 95 kg", "he is 93% on RA", "she is 98.6 now",
      "staff meeting 03/04/2025 in the big room",  // a whole date with no patient on its line
  };
  ExpectNone(negatives);
  // Street lines, phone numbers and versions as a probe found them typed.
  const Positive more[] = {
      {"lives at 1234 W 5th St", "ADDRESS:1234 W 5th St"},
      {"100 East 42nd Street", "ADDRESS:100 East 42nd Street"},
      {"lives at 123 1/2 Main St", "ADDRESS:123 1/2 Main St"},
      {"address: 77 County Rd 12", "ADDRESS:77 County Rd 12"},
      {"moved to 221 1st Ave N, Seattle", "ADDRESS:221 1st Ave N"},
      {"500 N Main St Bldg 2 Rm 14", "ADDRESS:500 N Main St Bldg 2 Rm 14"},
      {"77 Elm St Apt. 2-B", "ADDRESS:77 Elm St Apt. 2-B"},
      {"12 Oak Ln, 2nd floor", "ADDRESS:12 Oak Ln, 2nd floor"},
      {"call 617-555-0105x12 anytime", "PHONE:617-555-0105"},
      {"cell 617.555.0149ext2", "PHONE:617.555.0149"},
      {"contact: 617-555-0114/617-555-0115", "PHONE:617-555-0114"},
      {"contact: 617-555-0114/617-555-0115", "PHONE:617-555-0115"},
      {"call 617-555-0158/0159", "PHONE:617-555-0158/0159"},
      // dates as forms and hurried hands write them, right after a word that dates them
      {"dob 03 04 1961", "DATE:03 04 1961"},
      {"DOB 3 / 4 / 1961", "DATE:3 / 4 / 1961"},
      {"dob 030461", "DATE:030461"},
      {"DOB 19610304", "DATE:19610304"},
      {"DOB 3/61", "DATE:3/61"},
      {"dx 03/2024 at MGH", "DATE:03/2024"},
      {"DOB: 04MAR1961", "DATE:04MAR1961"},
      {"dob 4/Mar/1961", "DATE:4/Mar/1961"},
      {"admitted March 2024 for CHF", "DATE:March 2024"},
      {"admitted in Jan 2024", "DATE:Jan 2024"},
      // numbers in international form, and personal pages on more top-level domains
      {"her son in London: +44 7700 900123", "PHONE:+44 7700 900123"},
      {"call +44 20 7946 0958 tonight", "PHONE:+44 20 7946 0958"},
      {"daughter +52 55 5555 0123", "PHONE:+52 55 5555 0123"},
      {"uk number +44 (0)20 7946 0123", "PHONE:+44 (0)20 7946 0123"},
      {"my fundraiser bit.ly/3abcXYZ", "URL:bit.ly/3abcXYZ"},
      {"her blog example.co.uk/~maria", "URL:example.co.uk/~maria"},
  };
  ExpectFinds(more);
  EXPECT_EQ(Found("fax to 617-555-0177 attn Dr Lee"), (std::vector<std::string>{"PHONE:617-555-0177"}));
  ExpectNone({"epic build 2.1.0.5", "firmware 1.0.4.12 on the pump", "app build 2.1.0.5 from IT",
                           "since March 2024 the unit has grown", "order 030461 shipped", "lot 04MAR2027",
                           "room 12 04 1961", "seen by the team, 19610304 is the batch",
                           "K+ 4.1, Mg+2", "2+ pitting edema", "grew +12 since last week", "Ca/Mg repleted"});
  // A date on another line than the name is not tied to it by the line.
  EXPECT_EQ(Found("Maria Garcia\nstaff meeting 03/04/2025"), (std::vector<std::string>{"NAME:Maria Garcia"}));
}

// A patient whose name has letters outside ASCII is found however the name is typed: composed,
// decomposed, in capitals, in lower case, or without its accents; the span is the original text's.
TEST(PhiScanner, FindsAccentedNamesComposedDecomposedAndInAnyCase) {
  const auto scanner = ScannerWith({{"55509876", "Zo\xC3\xAB", "\xC3\x98stergaard"},
                                    {"55509877", "Jos\xC3\xA9", "N\xC3\xBA\xC3\xB1" "ez"}});
  ASSERT_TRUE(scanner);
  for (const std::string& name : {std::string("Zo\xC3\xAB \xC3\x98stergaard"), std::string("Zoe\xCC\x88 O\xCC\xB8stergaard"),
                                 std::string("ZO\xC3\x8B \xC3\x98STERGAARD"), std::string("zo\xC3\xAB \xC3\xB8stergaard"),
                                 std::string("Zoe Ostergaard"), std::string("Jose\xCC\x81 Nu\xCC\x81n\xCC\x83""ez")}) {
    const std::string text = "Seen " + name + " today";
    EXPECT_EQ(FindingsOf(*scanner, text), std::vector<std::string>{"NAME:" + name}) << text;
  }
}

// A Cyrillic or Greek patient's name is found in any case, its span the original text's bytes;
// what counts as capitalized is what was typed, as for Latin names: "LAST FIRST" without a comma
// only in capitals, a double surname's part only capitalized.
TEST(PhiScanner, FindsCyrillicAndGreekNamesInAnyCase) {
  const auto scanner = ScannerWith({{"70000001", "Дмитрий", "Иванов"},
                                    {"70000002", "Δημήτρης", "Παπαδόπουλος"},
                                    {"70000003", "Ольга", "Смирнова"}});
  ASSERT_TRUE(scanner);
  for (const std::string name :
       {"Дмитрий Иванов", "дмитрий иванов", "ДМИТРИЙ ИВАНОВ", "Δημήτρης Παπαδόπουλος", "δημήτρης παπαδόπουλος",
        "ΔΗΜΗΤΡΗΣ ΠΑΠΑΔΟΠΟΥΛΟΣ", "Δημη\xCC\x81τρης Παπαδο\xCC\x81πουλος", "Иванов, Дмитрий", "ИВАНОВ ДМИТРИЙ",
        "ΠΑΠΑΔΟΠΟΥΛΟΣ ΔΗΜΗΤΡΗΣ", "Ольга Смирнова-Петрова"}) {
    const std::string text = "Saw " + name + " today";
    EXPECT_EQ(FindingsOf(*scanner, text), std::vector<std::string>{"NAME:" + name}) << text;
  }
  // In lower case, a surname before a given name is no name without its comma, and a hyphenated
  // word no double surname (as "garcia maria" and "hope long-term" are not).
  for (const char* text : {"Saw иванов дмитрий today", "Saw ольга смирнова-петрова today"}) {
    EXPECT_TRUE(scanner->Scan(text).empty()) << text;
  }
  // A dash or an apostrophe before an emoji or a CJK character joins nothing to the name.
  const auto latin = ScannerWith({{"70000004", "Maria", "Garcia"}});
  ASSERT_TRUE(latin);
  for (const std::string after : {"-\xF0\x9F\x98\x80", "\xE2\x80\x94\xF0\x9F\x91\x8D", "'\xE5\xA5\xBD"}) {
    const std::string text = "Maria Garcia" + after + " in bed 4";
    EXPECT_EQ(FindingsOf(*latin, text), std::vector<std::string>{"NAME:Maria Garcia"}) << text;
  }
}

// A name is found only as the index has it: other Cyrillic and Greek names, and one of the
// patient's names beside a stranger's, are not.
TEST(PhiScanner, LeavesCyrillicAndGreekNamesOutsideTheIndexAlone) {
  const auto scanner = ScannerWith({{"70000001", "Дмитрий", "Иванов"},
                                    {"70000002", "Δημήτρης", "Παπαδόπουλος"}});
  ASSERT_TRUE(scanner);
  for (const char* text : {"Saw Дмитрий Петров today", "Saw ДМИТРИЙ СМИРНОВ today", "Saw Ольга Иванова today",
                           "Saw Νίκος Παπαδάκης today", "Saw ΝΙΚΟΣ ΠΑΠΑΔΟΠΟΥΛΟΣ today", "Saw δημήτρης today",
                           "Звонила Анна, всё хорошо", "Καλημέρα σε όλους"}) {
    EXPECT_TRUE(scanner->Scan(text).empty())
        << text << " -> " << ::testing::PrintToString(FindingsOf(*scanner, text));
  }
}

// Spans map to the original bytes through folded Greek and Cyrillic letters, look-alikes folded to
// one byte, emoji and Latin accents, and redaction replaces exactly those bytes.
TEST(PhiScanner, MapsCyrillicAndGreekNamesBackToTheirBytes) {
  const auto scanner = ScannerWith({{"70000001", "Дмитрий", "Иванов"},
                                    {"70000002", "Δημήτρης", "Παπαδόπουλος"},
                                    {"55509876", "Zo\xC3\xAB", "\xC3\x98stergaard"}});
  ASSERT_TRUE(scanner);
  const std::string text =
      "\xF0\x9F\x98\x80 ДМИТРИЙ ИВАНОВ \xF0\x9F\x98\x80 with zo\xC3\xAB \xC3\xB8stergaard and "
      "δημήτρης παπαδόπουλος, call 617-555-0142 \xF0\x9F\x98\x80";
  EXPECT_EQ(FindingsOf(*scanner, text),
            (std::vector<std::string>{"NAME:ДМИТРИЙ ИВАНОВ", "NAME:zo\xC3\xAB \xC3\xB8stergaard",
                                      "NAME:δημήτρης παπαδόπουλος", "PHONE:617-555-0142"}));
  EXPECT_EQ(Redact(text, scanner->Scan(text)),
            "\xF0\x9F\x98\x80 [REDACTED:NAME] \xF0\x9F\x98\x80 with [REDACTED:NAME] and [REDACTED:NAME], call "
            "[REDACTED:PHONE] \xF0\x9F\x98\x80");
}

// An Armenian or Georgian patient's name is found in any case, whichever case the index has it
// in: Armenian capitals and small letters, Georgian Mtavruli and Mkhedruli. "LAST FIRST" without
// a comma only in capitals, as for Latin, Greek and Cyrillic names.
TEST(PhiScanner, FindsArmenianAndGeorgianNamesInAnyCase) {
  const auto scanner = ScannerWith({{"70000011", "Հայկ", "Պետրոսյան"},
                                    {"70000012", "ᲜᲘᲜᲝ", "ᲑᲔᲠᲘᲫᲔ"}});
  ASSERT_TRUE(scanner);
  for (const std::string name :
       {"Հայկ Պետրոսյան", "հայկ պետրոսյան", "ՀԱՅԿ ՊԵՏՐՈՍՅԱՆ", "Պետրոսյան, Հայկ", "ՊԵՏՐՈՍՅԱՆ ՀԱՅԿ",
        "ნინო ბერიძე", "ᲜᲘᲜᲝ ᲑᲔᲠᲘᲫᲔ", "Ნინო Ბერიძე", "ბერიძე, ნინო", "ᲑᲔᲠᲘᲫᲔ ᲜᲘᲜᲝ"}) {
    const std::string text = "Saw " + name + " today";
    EXPECT_EQ(FindingsOf(*scanner, text), std::vector<std::string>{"NAME:" + name}) << text;
  }
  // A double surname is one word, its parts capitalized; Georgian, written without case, always.
  for (const std::string name : {"Հայկ Պետրոսյան-Մկրտչյան", "Հայկ Մկրտչյան-Պետրոսյան", "ნინო ბერიძე-გელოვანი",
                                 "Ნინო Ბერიძე-Გელოვანი", "ᲜᲘᲜᲝ ᲑᲔᲠᲘᲫᲔ-ᲒᲔᲚᲝᲕᲐᲜᲘ"}) {
    const std::string text = "Saw " + name + " today";
    EXPECT_EQ(FindingsOf(*scanner, text), std::vector<std::string>{"NAME:" + name}) << text;
  }
  for (const char* text : {"Saw պետրոսյան հայկ today", "Saw Հայկ Սարգսյան today", "Saw ԱՐԱՄ ՊԵՏՐՈՍՅԱՆ today",
                           "Saw ნინო გელოვანი today", "Saw հայկ պետրոսյան-մկրտչյան today"}) {
    EXPECT_TRUE(scanner->Scan(text).empty())
        << text << " -> " << ::testing::PrintToString(FindingsOf(*scanner, text));
  }
}

// Spans map to the original bytes through Armenian letters folded in two bytes and Georgian ones in
// three: a capitalized Georgian word before a phone number leaves the number's span its own.
TEST(PhiScanner, MapsArmenianAndGeorgianNamesBackToTheirBytes) {
  const auto scanner = ScannerWith({{"70000011", "Հայկ", "Պետրոսյան"},
                                    {"70000012", "ნინო", "ბერიძე"}});
  ASSERT_TRUE(scanner);
  const std::string text =
      "\xF0\x9F\x98\x80 ՀԱՅԿ ՊԵՏՐՈՍՅԱՆ and ᲜᲘᲜᲝ ᲑᲔᲠᲘᲫᲔ \xF0\x9F\x98\x80 Ბათუმი 617\xE2\x80\x91" "555-0142 ok";
  EXPECT_EQ(FindingsOf(*scanner, text),
            (std::vector<std::string>{"NAME:ՀԱՅԿ ՊԵՏՐՈՍՅԱՆ", "NAME:ᲜᲘᲜᲝ ᲑᲔᲠᲘᲫᲔ",
                                      "PHONE:617\xE2\x80\x91" "555-0142"}));
  EXPECT_EQ(Redact(text, scanner->Scan(text)),
            "\xF0\x9F\x98\x80 [REDACTED:NAME] and [REDACTED:NAME] \xF0\x9F\x98\x80 Ბათუმი [REDACTED:PHONE] ok");
}

TEST(PhiScanner, PrefersTheLongerReadingOfANameAndKeepsIdentifierPrefixes) {
  const auto scanner = ScannerWith({{"10000001", "Ahmed", "Day"},
                                    {"10000002", "Ahmed", "Alolko"},
                                    {"10000003", "Mary", "Nowak"},
                                    {"10000004", "Mary Ann", "Nowak"},
                                    {"10000005", "Joan", "Cooper"},
                                    {"10000006", "Kim", "Jackson"}});
  ASSERT_TRUE(scanner);
  auto found = [&](const std::string& text) { return FindingsOf(*scanner, text); };
  const Positive cases[] = {
      // a lower-case word before a given name is no "Last First" without a comma
      {"still walking every day Ahmed Alolko from Oak Grove WI", "NAME:Ahmed Alolko"},
      {"NOWAK, MARY ANN MRN 10000004 needs lisinopril", "NAME:NOWAK, MARY ANN"},
      // a repeated common-word surname in an all lower-case message
      {"spouse called for joan cooper (cooper household)", "NAME:cooper"},
      // identifiers typed digit by digit after a letter-digit prefix
      {"billing needs acct AC5 9 5 1 9 3 2 3 for the bill", "ACCOUNT:AC5 9 5 1 9 3 2 3"},
      {"my driver's license number is F4 8 1 1 9 5 1 for the permit", "LICENSE:F4 8 1 1 9 5 1"},
  };
  for (const auto& c : cases) {
    const auto f = found(c.text);
    EXPECT_NE(std::find(f.begin(), f.end(), c.expected), f.end())
        << c.text << " -> " << ::testing::PrintToString(f);
  }
  // A town that is also a name in the index needs its state code.
  EXPECT_TRUE(found("message from Jackson in pharmacy about the drip").empty());
  EXPECT_EQ(found("moved here from Jackson, MS last year"),
            (std::vector<std::string>{"ADDRESS:Jackson"}));
}

TEST_F(PhiScannerTest, ContextRaisesConfidence) {
  const auto bare = scanner_->Scan("ref 1234567893");  // an NPI-valid number, no context
  const auto npi = scanner_->Scan("NPI 1234567893");
  ASSERT_EQ(npi.size(), 1u);
  EXPECT_EQ(npi[0].type, PhiType::kNpi);
  EXPECT_GT(npi[0].confidence, 0.9);
  EXPECT_TRUE(bare.empty());
  const auto ssn_dashed = scanner_->Scan("123-45-6789");
  const auto ssn_context = scanner_->Scan("SSN 123-45-6789");
  ASSERT_EQ(ssn_dashed.size(), 1u);
  ASSERT_EQ(ssn_context.size(), 1u);
  EXPECT_LT(ssn_dashed[0].confidence, ssn_context[0].confidence);
  EXPECT_EQ(ssn_context[0].rule_id, "ssn.valid");
}

TEST_F(PhiScannerTest, FindingsCarryRuleIdsAndDoNotOverlap) {
  const std::string text =
      "Maria Garcia DOB 03/14/1962 MRN 48213377 cell (617) 555-0142 email maria@example.com";
  const auto found = scanner_->Scan(text);
  ASSERT_EQ(found.size(), 5u) << ::testing::PrintToString(Found(text));
  for (std::size_t i = 0; i < found.size(); ++i) {
    EXPECT_FALSE(found[i].rule_id.empty());
    EXPECT_GT(found[i].confidence, 0.5);
    if (i > 0) {
      EXPECT_LE(found[i - 1].end, found[i].begin);
    }
  }
  EXPECT_EQ(found[0].rule_id, "name.pair");
  EXPECT_EQ(found[2].type, PhiType::kMrn);
}

// A URL is judged by its whole path. Hyperscan used to report a URL at every character of its
// path, and a shorter report was tried when the whole URL scored too low, so "/p", the start of
// "/pub", made a plain file link personal.
TEST_F(PhiScannerTest, JudgesAUrlByItsWholePath) {
  EXPECT_TRUE(Found("ftp://files.example.edu/pub/a.txt").empty());
  EXPECT_TRUE(Found("docs at https://example.org/pub/guide.pdf today").empty());
  const Positive cases[] = {
      {"photos at https://example.com/u/4821/album/2 and http://example.org/p",
       "URL:https://example.com/u/4821/album/2"},
      {"photos at https://example.com/u/4821/album/2 and http://example.org/p",
       "URL:http://example.org/p"},
      {"see example.net/family/garcia?id=4821 and http://a.example.com/x?u=http://b.example.org/y",
       "URL:example.net/family/garcia?id=4821"},
      {"see example.net/family/garcia?id=4821 and http://a.example.com/x?u=http://b.example.org/y",
       "URL:http://a.example.com/x?u=http://b.example.org/y"},
      {"HTTPS://EXAMPLE.COM/PATIENTS/4821, thanks", "URL:HTTPS://EXAMPLE.COM/PATIENTS/4821"},
      {"port https://example.com:8443/u/a;b!c and more", "URL:https://example.com:8443/u/a;b!c"},
  };
  for (const Positive& c : cases) {
    const auto found = Found(c.text);
    EXPECT_NE(std::find(found.begin(), found.end(), c.expected), found.end())
        << c.text << " should contain " << c.expected;
  }
}

struct ExpectedSpan {
  PhiType type;
  const char* text;  // found once in the message
};

struct Spans {
  const char* text;
  std::vector<ExpectedSpan> expected;  // every finding, in order
};

// Checks each finding's type and exact byte span.
void ExpectSpans(const Scanner& scanner, const Spans& c) {
  const std::string text = c.text;
  const auto found = scanner.Scan(text);
  ASSERT_EQ(found.size(), c.expected.size()) << text;
  for (std::size_t i = 0; i < found.size(); ++i) {
    const std::size_t begin = text.find(c.expected[i].text);
    ASSERT_NE(begin, std::string::npos) << c.expected[i].text;
    EXPECT_EQ(found[i].type, c.expected[i].type) << text;
    EXPECT_EQ(found[i].begin, begin) << text;
    EXPECT_EQ(found[i].end, begin + std::string_view(c.expected[i].text).size())
        << text << " -> " << text.substr(found[i].begin, found[i].end - found[i].begin);
  }
}

// The www rule stops inside the host and the scanner extends the match over the URL's
// characters, which include the punctuation that ends a sentence and the PHI typed after a
// comma: the finding is the URL and nothing more.
TEST_F(PhiScannerTest, ReportsAWwwUrlWithoutTheSentenceAroundIt) {
  const Spans cases[] = {
      {"my website www.example.com", {{PhiType::kUrl, "www.example.com"}}},
      {"see my website www.example.com.", {{PhiType::kUrl, "www.example.com"}}},
      {"my website www.example.com, then call", {{PhiType::kUrl, "www.example.com"}}},
      {"my page (www.example.com) has it", {{PhiType::kUrl, "www.example.com"}}},
      {"my website www.example.com\xE2\x80\xA6", {{PhiType::kUrl, "www.example.com"}}},
      {"my website `www.example.com` here", {{PhiType::kUrl, "www.example.com"}}},
      {"my website **www.example.com** here", {{PhiType::kUrl, "www.example.com"}}},
      {"www.example.org/patients/jdoe?id=4",
       {{PhiType::kUrl, "www.example.org/patients/jdoe?id=4"}}},
      {"see www.example.org/patients/jdoe?id=4.",
       {{PhiType::kUrl, "www.example.org/patients/jdoe?id=4"}}},
      // A query or a port right after the host is part of the URL.
      {"my blog www.example.com?id=4 now", {{PhiType::kUrl, "www.example.com?id=4"}}},
      {"my blog www.example.com:8080/x now", {{PhiType::kUrl, "www.example.com:8080/x"}}},
      {"pt Maria Garcia, page www.example.org/patients/jdoe?id=4 then cb 617-555-0142.",
       {{PhiType::kName, "Maria Garcia"},
        {PhiType::kUrl, "www.example.org/patients/jdoe?id=4"},
        {PhiType::kPhone, "617-555-0142"}}},
      {"my website www.example.com,617-555-0142",
       {{PhiType::kUrl, "www.example.com"}, {PhiType::kPhone, "617-555-0142"}}},
  };
  for (const Spans& c : cases) ExpectSpans(*scanner_, c);
  // A site's address is PHI only with a word that makes it someone's.
  EXPECT_TRUE(scanner_->Scan("www.example.com").empty());
  ExpectNone({"my website www.example is down", "my blog notes.final.v2 is long",
                           "my page swww.example.com", "my site www. is down"});
}

// The rules with a scheme or a bare host extend over the same characters and end the same way.
TEST_F(PhiScannerTest, LeavesTheSentenceOutOfEveryUrl) {
  const Spans cases[] = {
      {"my website https://example.com/u/jdoe\xE2\x80\xA6",
       {{PhiType::kUrl, "https://example.com/u/jdoe"}}},
      {"my website **https://example.com/u/jdoe** here",
       {{PhiType::kUrl, "https://example.com/u/jdoe"}}},
      {"my page \xC2\xABhttps://example.com/u/jdoe\xC2\xBB",
       {{PhiType::kUrl, "https://example.com/u/jdoe"}}},
      {"my website https://example.com,617-555-0142",
       {{PhiType::kUrl, "https://example.com"}, {PhiType::kPhone, "617-555-0142"}}},
      {"see example.net/u/jdoe_, thanks", {{PhiType::kUrl, "example.net/u/jdoe"}}},
      {"my website https://user:pw@example.com/x ok",
       {{PhiType::kUrl, "https://user:pw@example.com/x"}}},
  };
  for (const Spans& c : cases) ExpectSpans(*scanner_, c);
}

TEST_F(PhiScannerTest, MapsSpansBackThroughChatPerturbations) {
  // Full-width digits (3 bytes each) and a zero-width space inside the number.
  const std::string text =
      "ssn \xEF\xBC\x99\xEF\xBC\x98\xEF\xBC\x97-65-43\xE2\x80\x8B" "21 ok";
  const auto found = scanner_->Scan(text);
  ASSERT_EQ(found.size(), 1u);
  EXPECT_EQ(found[0].type, PhiType::kSsn);
  EXPECT_EQ(found[0].begin, 4u);
  EXPECT_EQ(text.substr(found[0].end), " ok");
  EXPECT_EQ(Redact(text, found), "ssn [REDACTED:SSN] ok");
}

TEST_F(PhiScannerTest, RedactsEverySpanWithItsType) {
  const std::string text = "pt Maria Garcia, MRN 48213377, call 617-555-0142.";
  const auto found = scanner_->Scan(text);
  EXPECT_EQ(Redact(text, found),
            "pt [REDACTED:NAME], MRN [REDACTED:MRN], call [REDACTED:PHONE].");
  EXPECT_EQ(Redact("nothing here", {}), "nothing here");
  // Overlapping findings become one marker of the more confident type.
  const std::vector<Finding> overlapping = {{PhiType::kMrn, 0, 8, 0.6, "a"},
                                            {PhiType::kPhone, 4, 12, 0.9, "b"}};
  EXPECT_EQ(Redact("0123456789ab tail", overlapping), "[REDACTED:PHONE] tail");
}

TEST_F(PhiScannerTest, FollowsIndexUpdates) {
  EXPECT_TRUE(scanner_->Scan("Priya Raman is here").empty());
  index_->Upsert({"60606060", "Priya", "Raman"});
  const auto found = scanner_->Scan("Priya Raman is here, 60606060");
  ASSERT_EQ(found.size(), 2u);
  EXPECT_EQ(found[0].type, PhiType::kName);
  EXPECT_EQ(found[1].type, PhiType::kMrn);
  index_->Remove("60606060");
  EXPECT_TRUE(scanner_->Scan("Priya Raman is here").empty());
}

TEST_F(PhiScannerTest, ConcurrentScansAgreeWithASingleThread) {
  const std::vector<std::string> texts = {
      "pt Maria Garcia DOB 03/14/1962 cb 617-555-0142",
      "BP 120/80, metoprolol 25 mg",
      "SSN 987-65-4321, card 4111 1111 1111 1111, https://www.example.org/~mgarcia",
      "Mr. O'Brien at 42 Maple St, Springfield, MA 01101",
  };
  std::vector<std::vector<Finding>> expected;
  for (const auto& t : texts) expected.push_back(scanner_->Scan(t));
  std::atomic<int> mismatches{0};
  std::atomic<bool> stop{false};
  std::vector<std::thread> threads;
  for (int k = 0; k < 4; ++k) {
    threads.emplace_back([&, k] {
      for (int i = 0; i < 2000; ++i) {
        const std::size_t which = static_cast<std::size_t>(i + k) % texts.size();
        if (scanner_->Scan(texts[which]) != expected[which]) ++mismatches;
      }
    });
  }
  // Index updates for unrelated patients while the scans run.
  std::thread writer([&] {
    for (int i = 0; !stop && i < 200; ++i) {
      index_->Upsert({std::to_string(70000000 + i), "First" + std::to_string(i), "Last"});
    }
  });
  for (auto& t : threads) t.join();
  stop = true;
  writer.join();
  EXPECT_EQ(mismatches.load(), 0);
}

TEST(PhiScanner, RejectsARuleHyperscanCannotCompile) {
  RuleOptions options;
  options.mrn_formats = {"E\\d{7}", "(unclosed"};
  auto scanner = Scanner::Create(DefaultRuleSet(options), nullptr);
  ASSERT_FALSE(scanner);
  EXPECT_EQ(scanner.error().code, ErrorCode::kInvalidArgument);
  EXPECT_NE(scanner.error().public_message.find("mrn.format2"), std::string::npos);
}

TEST(PhiScanner, RejectsAnExtensionClassHyperscanCannotCompile) {
  RuleSet rules = DefaultRuleSet();
  for (Rule& rule : rules.rules) {
    if (rule.id == "url.bare") rule.extend_over = "[unclosed";
  }
  auto scanner = Scanner::Create(std::move(rules), nullptr);
  ASSERT_FALSE(scanner);
  EXPECT_EQ(scanner.error().code, ErrorCode::kInvalidArgument);
  EXPECT_NE(scanner.error().public_message.find("url.bare"), std::string::npos);
}

TEST(PhiScanner, ConfiguredMrnFormatsUseTheIndexToo) {
  RuleOptions options;
  options.mrn_formats = {"E\\d{7}"};
  auto index = std::make_shared<PatientIndex>();
  index->Replace(std::vector<PatientRecord>{{"E1234567", "Maria", "Garcia"}});
  auto scanner = Scanner::Create(DefaultRuleSet(options), index);
  ASSERT_TRUE(scanner);
  const auto hit = (*scanner)->Scan("please pull E1234567");
  ASSERT_EQ(hit.size(), 1u);
  EXPECT_EQ(hit[0].type, PhiType::kMrn);
  EXPECT_TRUE((*scanner)->Scan("please pull E7654321").empty());  // right shape, no context
  EXPECT_EQ((*scanner)->Scan("MRN E7654321").size(), 1u);
}

TEST(PhiScanner, WorksWithoutAnIndex) {
  auto scanner = Scanner::Create(DefaultRuleSet(), nullptr);
  ASSERT_TRUE(scanner);
  EXPECT_TRUE((*scanner)->Scan("Maria Garcia").empty());
  EXPECT_EQ((*scanner)->Scan("SSN 987-65-4321").size(), 1u);
  EXPECT_TRUE((*scanner)->Scan("").empty());
}

// The patients the findings of `text` name, as their MRNs.
std::vector<std::string> PatientsNamedIn(const Scanner& scanner, const PatientIndex& index, const std::string& text) {
  return index.Snapshot()->PatientsIn(text, scanner.Scan(text));
}

TEST_F(PhiScannerTest, FindingsNameThePatientsTheyPointAt) {
  using Mrns = std::vector<std::string>;
  const struct {
    const char* text;
    Mrns mrns;
  } cases[] = {
      {"pt Maria Garcia in bed 4", {"48213377"}},
      {"GARCIA, MARIA seen today", {"48213377"}},
      {"mary ann de la cruz called back", {"31415926"}},
      {"maria.garcia and Ahmed Haddad both discharged", {"48213377", "55501234"}},
      {"MRN 55501234 labs pending", {"55501234"}},
      {"chart E2045511 reviewed", {"E2045511"}},
      {"Maria Garica needs a callback", {"48213377"}},  // one slip
      {"Sean O'Brien and sean obrien", {"27182818"}},   // one patient, however typed
      {"Maria Garcia-Lopez is here", {"48213377"}},     // a double surname, one part hers
      // A surname alone is many patients': found, but naming no one.
      {"pt Garcia complains of pain", {}},
      // Values the index does not hold name no one.
      {"call 555-0142 re ssn 987-65-4321", {}},
  };
  for (const auto& c : cases) {
    EXPECT_EQ(PatientsNamedIn(*scanner_, *index_, c.text), c.mrns) << c.text;
  }
  EXPECT_EQ(Found("pt Garcia complains of pain"), std::vector<std::string>{"NAME:Garcia"});
  EXPECT_EQ(Found("Maria Garica needs a callback"), std::vector<std::string>{"NAME:Maria Garica"});
  // The finding is what names: the same words the scanner did not take as a name name no one.
  const std::string text = "maria garcia";
  EXPECT_EQ(index_->Snapshot()->PatientsIn(text, {}), Mrns{});
  const std::vector<Finding> phone = {{PhiType::kPhone, 0, text.size(), 0.9, "phone"}};
  EXPECT_EQ(index_->Snapshot()->PatientsIn(text, phone), Mrns{});
  // Spans outside the text are ignored, never read past its end.
  const std::vector<Finding> outside = {{PhiType::kName, 5, 99, 0.9, "name.pair"}};
  EXPECT_EQ(index_->Snapshot()->PatientsIn(text, outside), Mrns{});
}

// A slip that leaves a four-letter name three letters long, and a slip in a name of several
// words: each was missed while slips were looked for only in single words of four letters or
// more. Each is found, and names its patient.
TEST(PhiNearNames, FindsShortAndSeveralWordNamesWithOneSlip) {
  auto index = std::make_shared<PatientIndex>();
  index->Replace(std::vector<PatientRecord>{{"60000001", "Sara", "Bates"},
                                            {"60000002", "Noah", "Gregory"},
                                            {"60000003", "Cheryl", "Park"},
                                            {"60000004", "Mary Ann", "Cohen"},
                                            {"60000005", "Anne Marie", "Gregory"},
                                            {"60000006", "John", "De La Cruz"},
                                            {"60000007", "Cain", "Bates"},
                                            {"60000008", "Hans", "Gregory"},
                                            {"60000009", "Newt", "Bates"},
                                            {"60000010", "Tory", "Gregory"},
                                            // "Ann" is a name of its own too, as in any index of size
                                            {"60000011", "Ann", "Walsh"}});
  auto made = Scanner::Create(DefaultRuleSet(), index);
  ASSERT_TRUE(made);
  const Scanner& scanner = **made;
  const struct {
    const char* text;
    const char* name;
    const char* mrn;
  } cases[] = {
      {"Name: Sar A. Bates, DOB pending", "NAME:Sar A. Bates", "60000001"},
      {"Noh Gregory gave her email for the portal", "NAME:Noh Gregory", "60000002"},
      {"write to Cheryl Pak about the bill", "NAME:Cheryl Pak", "60000003"},
      {"GARZA, SAA and BATES, SAA", "NAME:BATES, SAA", "60000001"},
      {"pt Maary Ann Cohen DOB pending", "NAME:Maary Ann Cohen", "60000004"},
      {"Gregory, Anne Marfe needs the form", "NAME:Gregory, Anne Marfe", "60000005"},
      {"Pt is a 93 y/o female, DE LA CRUZ, JOH, fall at home", "NAME:DE LA CRUZ, JOH", "60000006"},
      {"John De La Crux called back", "NAME:John De La Crux", "60000006"},
  };
  for (const auto& c : cases) {
    const auto found = FindingsOf(scanner, c.text);
    EXPECT_NE(std::find(found.begin(), found.end(), c.name), found.end())
        << c.text << " -> " << ::testing::PrintToString(found);
    EXPECT_EQ(PatientsNamedIn(scanner, *index, c.text), std::vector<std::string>{c.mrn}) << c.text;
  }
  // Three letters are a slip only capitalized beside a capitalized name, and never a word of
  // three letters: "Can" is no Cain, "Has" no Hans, "Try" no Tory.
  for (const char* text : {"Can Bates come in at 3?", "Has Gregory eaten yet?", "Try Gregory again later",
                           "New Bates admit in bed 4", "noh gregory called",
                           "Noh gregory called", "sar a. bates", "ask Gregory, has he eaten?"}) {
    const auto found = FindingsOf(scanner, text);
    EXPECT_TRUE(std::none_of(found.begin(), found.end(),
                             [](const std::string& f) { return f.rfind("NAME:", 0) == 0; }))
        << text << " -> " << ::testing::PrintToString(found);
  }
}

TEST(PhiPatientsIn, NamesEveryPatientWithTheNameAndFollowsTheIndex) {
  auto index = std::make_shared<PatientIndex>();
  index->Replace(std::vector<PatientRecord>{{"MR-1001", "John", "Smith"}, {"mr1002", "John", "Smith"},
                                            {"1003", "Jane", "Smith"}});
  auto scanner = Scanner::Create(DefaultRuleSet(), index);
  ASSERT_TRUE(scanner);
  // Two patients share the name: the text may be about either, and names both.
  EXPECT_EQ(PatientsNamedIn(**scanner, *index, "John Smith called"), (std::vector<std::string>{"MR1001", "MR1002"}));
  EXPECT_EQ(PatientsNamedIn(**scanner, *index, "Smith, Jane called"), std::vector<std::string>{"1003"});
  // An MRN as the index files it, typed another way, is the same patient.
  const std::string typed = "mr-1002";
  const std::vector<Finding> mrn = {{PhiType::kMrn, 0, typed.size(), 0.9, "mrn.prefixed"}};
  EXPECT_EQ(index->Snapshot()->PatientsIn(typed, mrn), std::vector<std::string>{"MR1002"});
  // "MRN1003": letters before the number the index holds.
  const std::string labelled = "MRN1003";
  const std::vector<Finding> labelled_mrn = {{PhiType::kMrn, 0, labelled.size(), 0.9, "mrn.prefixed"}};
  EXPECT_EQ(index->Snapshot()->PatientsIn(labelled, labelled_mrn), std::vector<std::string>{"1003"});
  // A patient removed from the index is named no more.
  index->Remove("1003");
  EXPECT_EQ(index->Snapshot()->PatientsIn(labelled, labelled_mrn), std::vector<std::string>{});
}

TEST(PhiDecide, FollowsTheTemplateRuleWhenThereIsPhi) {
  const std::vector<Finding> none;
  const std::vector<Finding> some = {{PhiType::kSsn, 0, 11, 0.97, "ssn.valid"}};
  EXPECT_EQ(Decide(policy::PhiRule::kBlock, none), PhiAction::kAllow);
  EXPECT_EQ(Decide(policy::PhiRule::kAllow, some), PhiAction::kAllow);
  EXPECT_EQ(Decide(policy::PhiRule::kWarn, some), PhiAction::kWarn);
  EXPECT_EQ(Decide(policy::PhiRule::kHold, some), PhiAction::kHold);
  EXPECT_EQ(Decide(policy::PhiRule::kBlock, some), PhiAction::kBlock);
  EXPECT_EQ(Decide(policy::PhiRule::kRedact, some), PhiAction::kRedact);
  EXPECT_EQ(ToString(PhiAction::kRedact), "redact");
}

}  // namespace
}  // namespace rounds::governance::phi
