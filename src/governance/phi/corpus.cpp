#include "governance/phi/corpus.hpp"

#include <algorithm>
#include <array>
#include <unordered_set>

#include "governance/phi/validators.hpp"

namespace rounds::governance::phi {

std::string_view ToString(Genre genre) {
  switch (genre) {
    case Genre::kStaffChat: return "staff-chat";
    case Genre::kPatientMessage: return "patient-message";
    case Genre::kTriageNote: return "triage-note";
    case Genre::kForumPost: return "forum-post";
    case Genre::kEhrFragment: return "ehr-fragment";
  }
  return "?";
}

std::string_view ToString(Perturbation perturbation) {
  switch (perturbation) {
    case Perturbation::kNone: return "none";
    case Perturbation::kLowerCase: return "lower-case";
    case Perturbation::kTypos: return "typos";
    case Perturbation::kSplitDigits: return "split-digits";
    case Perturbation::kSpacedDigits: return "spaced-digits";
    case Perturbation::kFullWidth: return "full-width";
    case Perturbation::kZeroWidth: return "zero-width";
    case Perturbation::kNoPunctuation: return "no-punctuation";
  }
  return "?";
}

namespace {

std::vector<std::string> Split(std::string_view list) {
  std::vector<std::string> out;
  std::size_t pos = 0;
  while (pos < list.size()) {
    std::size_t next = list.find('|', pos);
    if (next == std::string_view::npos) next = list.size();
    if (next > pos) out.emplace_back(list.substr(pos, next - pos));
    pos = next + 1;
  }
  return out;
}

// Common US given names and surnames (public frequency lists), combined at random.
const std::vector<std::string>& FirstNames() {
  static const std::vector<std::string> names = Split(
      "James|Mary|John|Patricia|Robert|Jennifer|Michael|Linda|William|Elizabeth|David|Barbara|"
      "Richard|Susan|Joseph|Jessica|Thomas|Sarah|Charles|Karen|Christopher|Lisa|Daniel|Nancy|"
      "Matthew|Betty|Anthony|Margaret|Mark|Sandra|Donald|Ashley|Steven|Kimberly|Paul|Emily|"
      "Andrew|Donna|Joshua|Michelle|Kenneth|Carol|Kevin|Amanda|Brian|Dorothy|George|Melissa|"
      "Timothy|Deborah|Ronald|Stephanie|Edward|Rebecca|Jason|Sharon|Jeffrey|Laura|Ryan|Cynthia|"
      "Jacob|Kathleen|Gary|Amy|Nicholas|Angela|Eric|Shirley|Jonathan|Anna|Stephen|Brenda|Larry|"
      "Pamela|Justin|Emma|Scott|Nicole|Brandon|Helen|Benjamin|Samantha|Samuel|Katherine|Gregory|"
      "Christine|Alexander|Debra|Patrick|Carolyn|Raymond|Janet|Dennis|Maria|Jerry|"
      "Heather|Tyler|Diane|Aaron|Ruth|Jose|Julie|Adam|Olivia|Nathan|Joyce|Henry|Virginia|"
      "Douglas|Victoria|Zachary|Kelly|Peter|Lauren|Kyle|Christina|Ethan|Joan|Walter|Evelyn|Noah|"
      "Judith|Jeremy|Megan|Christian|Andrea|Keith|Cheryl|Roger|Hannah|Terry|Jacqueline|Gerald|"
      "Martha|Harold|Gloria|Sean|Teresa|Austin|Ann|Carl|Sara|Arthur|Lawrence|Frances|"
      "Dylan|Kathryn|Jesse|Janice|Bryan|Abigail|Billy|Alice|Bruce|Sophia|Gabriel|"
      "Logan|Denise|Albert|Amber|Willie|Doris|Alan|Marilyn|Juan|Danielle|Wayne|Beverly|Elijah|"
      "Isabella|Randy|Theresa|Roy|Diana|Vincent|Natalie|Ralph|Brittany|Eugene|Charlotte|Bobby|"
      "Kayla|Philip|Lori|Louis|Carlos|Luis|Miguel|Ana|Sofia|Camila|Valentina|Guadalupe|"
      "Rosa|Carmen|Wei|Mei|Hiroshi|Yuki|Priya|Raj|Anil|Sunita|Mohammed|Fatima|Aisha|Omar|Ahmed|"
      "Ngozi|Chinedu|Kwame|Amara|Thanh|Minh|Linh|Dmitri|Olga|Ivan|Mary Ann|Anne Marie|Hope|"
      "Faith|June|Rose|Joy|Dawn|April|Ray|Esperanza|Beatriz|Javier|Alejandro|Xavier|Tomasz|"
      "Agnieszka|Siobhan|Declan|Niamh|Aoife|Malik|Tariq|Leila|Yusuf|Zainab|Ikechukwu|Oluwaseun|"
      "Adaeze|Kenji|Haruto|Sakura|Jin|Seo-yeon|Min-jun|Arjun|Deepa|Kavya|Rohan|Nikolai|"
      "Svetlana|Giulia|Matteo|Lorenzo|Francesca|Hans|Greta|Lukas|Ingrid|Pierre|Amelie|Chloe|"
      "Mateo|Santiago|Lucia|Ximena|Marisol|Rafael|Consuelo|Dolores|Ignacio|Bernadette|Mildred|"
      "Eleanor|Harriet|Clarence|Herbert|Wilbur|Agnes|Edna|Gertrude|Otis|Mabel|Virgil");
  return names;
}

const std::vector<std::string>& CommonSurnames() {
  static const std::vector<std::string> names = Split(
      "Smith|Johnson|Williams|Brown|Jones|Garcia|Miller|Davis|Rodriguez|Martinez|Hernandez|Lopez|"
      "Gonzalez|Wilson|Anderson|Thomas|Taylor|Moore|Jackson|Martin|Lee|Perez|Thompson|White|"
      "Harris|Sanchez|Clark|Ramirez|Lewis|Robinson|Walker|Young|Allen|King|Wright|Scott|Torres|"
      "Nguyen|Hill|Flores|Green|Adams|Nelson|Baker|Hall|Rivera|Campbell|Mitchell|Carter|Roberts|"
      "Gomez|Phillips|Evans|Turner|Diaz|Parker|Cruz|Edwards|Collins|Reyes|Stewart|Morris|"
      "Morales|Murphy|Cook|Rogers|Gutierrez|Ortiz|Morgan|Cooper|Peterson|Bailey|Reed|Kelly|"
      "Howard|Ramos|Kim|Cox|Ward|Richardson|Watson|Brooks|Chavez|Wood|James|Bennett|Gray|"
      "Mendoza|Ruiz|Hughes|Price|Alvarez|Castillo|Sanders|Patel|Myers|Long|Ross|Foster|Jimenez|"
      "Powell|Jenkins|Perry|Russell|Sullivan|Bell|Coleman|Butler|Henderson|Barnes|Gonzales|"
      "Fisher|Vasquez|Simmons|Romero|Jordan|Patterson|Alexander|Hamilton|Graham|Reynolds|"
      "Griffin|Wallace|Moreno|West|Cole|Hayes|Bryant|Herrera|Gibson|Ellis|Tran|Medina|Aguilar|"
      "Stevens|Murray|Ford|Castro|Marshall|Owens|Harrison|Fernandez|McDonald|Woods|Washington|"
      "Kennedy|Wells|Vargas|Henry|Chen|Freeman|Webb|Tucker|Guzman|Burns|Crawford|Olson|Simpson|"
      "Porter|Hunter|Gordon|Mendez|Silva|Shaw|Snyder|Mason|Dixon|Munoz|Hunt|Hicks|Holmes|"
      "Palmer|Wagner|Black|Robertson|Boyd|Rose|Stone|Salazar|Fox|Warren|Mills|Meyer|Rice|"
      "Schmidt|Garza|Daniels|Ferguson|Nichols|Stephens|Soto|Weaver|Ryan|Gardner|Payne|Grant|"
      "Dunn|Kelley|Spencer|Hawkins|Arnold|Pierce|Vazquez|Hansen|Peters|Santos|Hart|Bradley|"
      "Knight|Elliott|Cunningham|Duncan|Armstrong|Hudson|Carroll|Lane|Riley|Andrews|Alvarado|"
      "Ray|Delgado|Berry|Perkins|Hoffman|Johnston|Matthews|Pena|Richards|Contreras|Willis|"
      "Carpenter|Lawrence|Sandoval|Guerrero|George|Chapman|Rios|Estrada|Ortega|Watkins|Greene|"
      "Nunez|Wheeler|Valdez|Harper|Burke|Larson|Santiago|Maldonado|Morrison|Franklin|Carlson|"
      "Austin|Dominguez|Carr|Lawson|Jacobs|O'Brien|Lynch|Singh|Vega|Bishop|Montgomery|Oliver|"
      "Jensen|Harvey|Williamson|Gilbert|Dean|Sims|Espinoza|Howell|Li|Wong|Reid|Hanson|Le|"
      "McCoy|Garrett|Burton|Fuller|Wang|Weber|Welch|Rojas|Lucas|Marquez|Fields|Park|Yang|"
      "Little|Banks|Padilla|Day|Walsh|Bowman|Schultz|Luna|Fowler|Mejia|Davidson|Acosta|Brewer|"
      "Holland|Juarez|Newman|Pearson|Curtis|Cortez|Douglas|Schneider|Joseph|Barrett|Navarro|"
      "Figueroa|Keller|Avila|Wade|Molina|Stanley|Hopkins|Campos|Barnett|Bates|Chambers|"
      "Caldwell|Beck|Lambert|Miranda|Byrd|Craig|Ayala|Lowe|Frazier|Powers|Neal|Leonard|Gregory|"
      "Carrillo|Sutton|Fleming|Rhodes|Shelton|Schwartz|Norris|Jennings|Watts|Duran|Walters|"
      "Cohen|McDaniel|Moran|Parks|Steele|Vaughn|Becker|Holt|Barker|Terry|Hale|Leon|Okafor|"
      "Adeyemi|Mensah|Okonkwo|Nakamura|Tanaka|Sato|Suzuki|Watanabe|Kowalski|Nowak|Ivanov|"
      "Petrov|Novak|Horvat|Kaur|Sharma|Gupta|Kumar|Das|Rahman|Hossain|Ali|Khan|Hussain|Haddad|"
      "Nasser|Mansour|Levy|Friedman|Rossi|Russo|Ferrari|Esposito|Bianchi|Romano|Costa|Ricci|"
      "Muller|Fischer|Dubois|Laurent|Moreau|Lefebvre|Bernard|Durand|De La Cruz|Smith-Jones|"
      "Del Rio|Van Dyke|MacLeod|O'Connor|D'Angelo|Abernathy|Blackwood|Fitzgerald|Gallagher|"
      "Kowalczyk|Lindqvist|Nakagawa|Okoye|Quintero|Ramaswamy|Szabo|Takahashi|Underwood|Villanueva");
  return names;
}

// Made-up surnames from syllables, so the index has a realistic long tail of rare names.
std::vector<std::string> MadeUpSurnames(Rng& rng, std::size_t count) {
  static const std::vector<std::string> onsets = Split(
      "B|Br|C|Ch|D|Dr|F|G|Gr|H|K|Kr|L|M|N|P|Pr|R|S|Sh|St|T|Tr|V|W|Z|Al|El|Or|Ul|Ash|Bel|Cor|"
      "Dal|Fen|Gal|Hal|Kel|Mar|Nor|Quin|Ros|Tal|Vel|Wyn");
  static const std::vector<std::string> middles = Split(
      "a|e|i|o|u|ai|ea|io|ou|ar|er|ir|or|ur|an|en|in|on|al|el|il|ol|am|em|im|om");
  static const std::vector<std::string> codas = Split(
      "berg|by|dale|den|dorf|ez|field|ford|gard|hart|ko|lan|ley|lin|lund|man|mont|nik|ov|"
      "quist|rell|ridge|sen|shaw|ski|son|stad|ston|ton|vic|wick|worth|zak|ani|ardi|elli|etti|"
      "ova|enko|escu|akis|opoulos|ian|yan|iak|ek|ic");
  std::unordered_set<std::string> seen;
  std::vector<std::string> out;
  while (out.size() < count) {
    std::string name = rng.Pick(onsets) + rng.Pick(middles);
    if (rng.Chance(0.4)) name += rng.Pick(middles) == "a" ? "r" : "l";
    name += rng.Pick(codas);
    if (name.size() < 5 || !seen.insert(name).second) continue;
    out.push_back(name);
  }
  return out;
}

// ---- Values ----------------------------------------------------------------------------------

std::string Digits(Rng& rng, int n) {
  std::string s;
  for (int i = 0; i < n; ++i) s.push_back(static_cast<char>('0' + rng.Below(10)));
  return s;
}

std::string Pad(int value, int width) {
  std::string s = std::to_string(value);
  while (static_cast<int>(s.size()) < width) s.insert(s.begin(), '0');
  return s;
}

char LuhnCheckDigit(const std::string& body) {
  for (char d = '0'; d <= '9'; ++d) {
    if (LuhnValid(body + d)) return d;
  }
  return '0';
}

const std::vector<std::string>& AreaCodes() {
  static const std::vector<std::string> codes = Split(
      "212|617|312|415|646|718|202|305|404|503|206|512|614|720|801|973|857|978|508|781|347|"
      "510|602|713|214|919|704|615|702|858");
  return codes;
}

std::string Phone(Rng& rng) {
  const std::string area = rng.Pick(AreaCodes());
  const std::string line = "01" + Digits(rng, 2);
  switch (rng.Below(8)) {
    case 0: return "(" + area + ") 555-" + line;
    case 1: return area + "-555-" + line;
    case 2: return area + ".555." + line;
    case 3: return area + "555" + line;
    case 4: return "+1 " + area + " 555 " + line;
    case 5: return "1-" + area + "-555-" + line;
    case 6: return area + " 555 " + line;
    default: return "(" + area + ")555-" + line;
  }
}

std::string Ssn(Rng& rng) {
  std::string d;
  if (rng.Chance(0.5)) {
    d = "98765432" + Digits(rng, 1);
  } else {
    int area = rng.Between(1, 899);
    if (area == 666) area = 667;
    d = Pad(area, 3) + Pad(rng.Between(1, 99), 2) + Pad(rng.Between(1, 9999), 4);
  }
  const std::size_t style = rng.Below(10);
  if (style < 6) return d.substr(0, 3) + "-" + d.substr(3, 2) + "-" + d.substr(5);
  if (style < 8) return d.substr(0, 3) + " " + d.substr(3, 2) + " " + d.substr(5);
  return d;
}

std::string Card(Rng& rng) {
  static const std::vector<std::string> test_pans = Split(
      "4111111111111111|5555555555554444|378282246310005|6011111111111117|4012888888881881|"
      "5105105105105100|371449635398431|4242424242424242");
  std::string d;
  if (rng.Chance(0.3)) {
    d = rng.Pick(test_pans);
  } else {
    const std::size_t kind = rng.Below(4);
    std::string body = kind == 0 ? "4" + Digits(rng, 14)
                       : kind == 1 ? "5" + std::to_string(rng.Between(1, 5)) + Digits(rng, 13)
                       : kind == 2 ? "37" + Digits(rng, 12)
                                   : "6011" + Digits(rng, 11);
    d = body + LuhnCheckDigit(body);
  }
  const std::size_t style = rng.Below(3);
  if (style == 2) return d;
  const char sep = style == 0 ? ' ' : '-';
  if (d.size() == 15) return d.substr(0, 4) + sep + d.substr(4, 6) + sep + d.substr(10);
  std::string out;
  for (std::size_t i = 0; i < d.size(); ++i) {
    if (i > 0 && i % 4 == 0) out.push_back(sep);
    out.push_back(d[i]);
  }
  return out;
}

std::string Npi(Rng& rng) {
  for (;;) {
    const std::string body = (rng.Chance(0.7) ? "1" : "2") + Digits(rng, 8);
    for (char d = '0'; d <= '9'; ++d) {
      if (IsValidNpi(body + d)) return body + d;
    }
  }
}

std::string Dea(Rng& rng, char initial) {
  static const std::string kTypes = "ABFM";
  std::string s;
  s.push_back(kTypes[rng.Below(kTypes.size())]);
  s.push_back(initial);
  std::string d = Digits(rng, 6);
  const int sum = (d[0] - '0') + (d[2] - '0') + (d[4] - '0') +
                  2 * ((d[1] - '0') + (d[3] - '0') + (d[5] - '0'));
  return s + d + static_cast<char>('0' + sum % 10);
}

std::string Vin(Rng& rng) {
  static const std::string kChars = "ABCDEFGHJKLMNPRSTUVWXYZ0123456789";
  for (;;) {
    std::string v;
    for (int i = 0; i < 17; ++i) v.push_back(kChars[rng.Below(kChars.size())]);
    if (rng.Chance(0.5)) v.replace(0, 3, rng.Chance(0.5) ? "1HG" : "5YJ");
    v[8] = VinCheckCharacter(v);
    if (IsValidVin(v)) return v;
  }
}

std::string Mbi(Rng& rng) {
  static const std::string kLetters = "ACDEFGHJKMNPQRTUVWXY";
  static const std::string kAlnum = "ACDEFGHJKMNPQRTUVWXY0123456789";
  auto l = [&] { return kLetters[rng.Below(kLetters.size())]; };
  auto a = [&] { return kAlnum[rng.Below(kAlnum.size())]; };
  auto d = [&] { return static_cast<char>('0' + rng.Below(10)); };
  std::string s;
  s.push_back(static_cast<char>('1' + rng.Below(9)));
  s.push_back(l());
  s.push_back(a());
  s.push_back(d());
  s.push_back(l());
  s.push_back(a());
  s.push_back(d());
  s.push_back(l());
  s.push_back(l());
  s.push_back(d());
  s.push_back(d());
  if (rng.Chance(0.3)) return s.substr(0, 4) + "-" + s.substr(4, 3) + "-" + s.substr(7);
  return s;
}

std::string Imei(Rng& rng) {
  const std::string body = "35" + Digits(rng, 12);
  return body + LuhnCheckDigit(body);
}

std::string Mac(Rng& rng) {
  static const std::string kHex = "0123456789ABCDEF";
  std::string s;
  for (int i = 0; i < 6; ++i) {
    if (i > 0) s.push_back(':');
    s.push_back(kHex[rng.Below(16)]);
    s.push_back(kHex[rng.Below(16)]);
  }
  return s;
}

std::string Serial(Rng& rng) {
  static const std::vector<std::string> prefixes = Split("PM|SN|ICD|CGM|HA|NS|MDT|BSC|DX");
  std::string s = rng.Pick(prefixes) + Digits(rng, rng.Between(6, 8));
  if (rng.Chance(0.4)) s.push_back(static_cast<char>('A' + rng.Below(26)));
  return s;
}

std::string Plate(Rng& rng) {
  auto letters = [&](int n) {
    std::string s;
    for (int i = 0; i < n; ++i) s.push_back(static_cast<char>('A' + rng.Below(26)));
    return s;
  };
  switch (rng.Below(3)) {
    case 0: return Digits(rng, 1) + letters(3) + Digits(rng, 3);
    case 1: return letters(3) + "-" + Digits(rng, 4);
    default: return letters(3) + " " + Digits(rng, 3);
  }
}

std::string License(Rng& rng) {
  if (rng.Chance(0.5)) return std::string(1, static_cast<char>('A' + rng.Below(26))) + Digits(rng, 7);
  return Digits(rng, 9);
}

std::string Member(Rng& rng) {
  static const std::vector<std::string> prefixes = Split("XJH|W|ZGP|MCD|H|YRX|BCB|UHC");
  return rng.Pick(prefixes) + Digits(rng, rng.Between(7, 10));
}

std::string Account(Rng& rng) {
  if (rng.Chance(0.3)) return "AC" + Digits(rng, 8);
  return std::to_string(rng.Between(1, 9)) + Digits(rng, rng.Between(7, 11));
}

std::string Ip(Rng& rng) {
  static const std::vector<std::string> nets = Split("192.0.2.|198.51.100.|203.0.113.");
  return rng.Pick(nets) + std::to_string(rng.Between(1, 254));
}

std::string Ipv6(Rng& rng) {
  static const std::string kHex = "0123456789abcdef";
  auto group = [&] {
    std::string g;
    for (int i = 0, n = rng.Between(1, 4); i < n; ++i) g.push_back(kHex[rng.Below(16)]);
    if (g.size() > 1 && g[0] == '0') g[0] = 'a';
    return g;
  };
  if (rng.Chance(0.5)) return "2001:db8::" + group() + ":" + group();
  return "2001:db8:" + group() + ":" + group() + ":" + group() + ":" + group() + ":" + group() +
         ":" + group();
}

const std::vector<std::string>& StreetNames() {
  static const std::vector<std::string> names = Split(
      "Maple|Oak|Cedar|Elm|Pine|Washington|Lincoln|Park|Lake|Hill|Main|Church|Highland|Sunset|"
      "Ridge|Willow|Chestnut|River|Spring|Meadow|Forest|Prospect|Union|Franklin|Jefferson|"
      "Madison|Adams|Harbor View|Cherry Blossom|Old Mill|Winding Brook|Fox Run|Quarry|Summit|"
      "Birch|Walnut|Magnolia|Dogwood|Juniper|Hawthorne|Beacon|Commonwealth|Orchard|Valley");
  return names;
}

const std::vector<std::string>& StreetSuffixes() {
  static const std::vector<std::string> suffixes = Split(
      "St|Street|Ave|Avenue|Rd|Road|Dr|Drive|Ln|Lane|Ct|Court|Blvd|Way|Pl|Terrace|Circle|Pkwy");
  return suffixes;
}

std::string Street(Rng& rng) {
  std::string s = std::to_string(rng.Between(1, 9999)) + " ";
  if (rng.Chance(0.15)) s += std::string(1, "NSEW"[rng.Below(4)]) + " ";
  s += rng.Pick(StreetNames()) + " " + rng.Pick(StreetSuffixes());
  const std::size_t unit = rng.Below(6);
  if (unit == 0) s += ", Apt " + std::to_string(rng.Between(1, 40)) + std::string(1, "ABCD"[rng.Below(4)]);
  if (unit == 1) s += " Unit " + std::to_string(rng.Between(1, 300));
  if (unit == 2) s += " #" + std::to_string(rng.Between(1, 30));
  return s;
}

const std::vector<std::string>& Cities() {
  static const std::vector<std::string> cities = Split(
      "Springfield|Riverside|Fairview|Franklin|Greenville|Bristol|Clinton|Georgetown|Salem|"
      "Madison|Arlington|Ashland|Burlington|Manchester|Milton|Newport|Oxford|Dover|Hudson|"
      "Kingston|Marion|Lexington|Auburn|Dayton|Centerville|Oak Grove|Lakewood|Pleasant Hill|"
      "Mount Vernon|Cedar Falls|Brookfield|Westfield|Millbrook|Glenwood|Hillsboro|Waverly");
  return cities;
}

const std::vector<std::string>& States() {
  static const std::vector<std::string> states = Split(
      "MA|NY|CA|TX|IL|OH|GA|NC|MI|NJ|VA|WA|AZ|TN|IN|MO|WI|CO|MN|SC|AL|KY|OR|CT|IA|NV|AR|KS|NM|NE");
  return states;
}

std::string Zip(Rng& rng) {
  std::string z = Pad(rng.Between(1001, 99950), 5);
  if (rng.Chance(0.2)) z += "-" + Pad(rng.Between(1, 9999), 4);
  return z;
}

const std::array<std::string_view, 12> kMonthNames = {
    "January", "February", "March", "April", "May", "June", "July", "August", "September",
    "October", "November", "December"};

std::string Date(Rng& rng, bool birth) {
  const int year = birth ? rng.Between(1925, 2015) : rng.Between(2018, 2026);
  const int month = rng.Between(1, 12);
  const int day = rng.Between(1, 28);
  const std::string mon(kMonthNames[static_cast<std::size_t>(month - 1)]);
  const std::size_t style = rng.Below(birth ? 9 : 11);
  switch (style) {
    case 0: return Pad(month, 2) + "/" + Pad(day, 2) + "/" + std::to_string(year);
    case 1: return std::to_string(month) + "/" + std::to_string(day) + "/" + std::to_string(year % 100 + 100).substr(1);
    case 2: return std::to_string(year) + "-" + Pad(month, 2) + "-" + Pad(day, 2);
    case 3: return mon + " " + std::to_string(day) + ", " + std::to_string(year);
    case 4: return mon.substr(0, 3) + " " + std::to_string(day) + " " + std::to_string(year);
    case 5: return std::to_string(day) + " " + mon.substr(0, 3) + " " + std::to_string(year);
    case 6: return std::to_string(month) + "-" + std::to_string(day) + "-" + std::to_string(year);
    case 7: return std::to_string(month) + "/" + std::to_string(day) + "/" + std::to_string(year);
    case 8: return Pad(month, 2) + "." + Pad(day, 2) + "." + std::to_string(year);
    case 9: return std::to_string(month) + "/" + std::to_string(day);
    default: return mon + " " + std::to_string(day);
  }
}

std::string Email(Rng& rng, const PatientRecord& p) {
  static const std::vector<std::string> domains = Split(
      "example.com|example.org|example.net|mail.example.com|patients.example.org|inbox.test|"
      "family.example.net");
  std::string first;
  std::string last;
  for (char c : p.first) {
    if (std::isalpha(static_cast<unsigned char>(c))) first.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
  }
  for (char c : p.last) {
    if (std::isalpha(static_cast<unsigned char>(c))) last.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
  }
  std::string local;
  switch (rng.Below(4)) {
    case 0: local = first + "." + last; break;
    case 1: local = first.substr(0, 1) + last + std::to_string(rng.Between(1, 99)); break;
    case 2: local = first + "_" + last.substr(0, 3) + std::to_string(rng.Between(60, 99)); break;
    default: local = last + first.substr(0, 1); break;
  }
  return local + "@" + rng.Pick(domains);
}

// The forms staff and patients type that the templates above did not hold.

// The sex or unit typed onto an age in clinical shorthand: "92F", "95M", "91yoM". The age alone
// is PHI.
const std::vector<std::string>& AgeSuffixes() {
  static const std::vector<std::string> suffixes = Split("F|M|yoF|yoM|yo|yof|yom");
  return suffixes;
}

// A number in international form, from ranges reserved for fiction: UK 07700 900xxx mobiles and
// 020 7946 0xxx London numbers, and NANP 555-01xx.
std::string PhoneInternational(Rng& rng) {
  switch (rng.Below(3)) {
    case 0: return "+44 7700 900" + Pad(rng.Between(0, 999), 3);
    case 1: return "+44 (0)20 7946 0" + Pad(rng.Between(0, 999), 3);
    default: return "+1 " + std::to_string(rng.Pick(std::vector<int>{212, 312, 617, 713})) + " 555 01" + Pad(rng.Between(0, 99), 2);
  }
}

// An e-mail address spelled out so that no program reads it: "maria dot garcia at example dot
// com", "mgarcia[at]example.org", "maria.garcia (at) example.net".
std::string EmailSpelled(Rng& rng, const std::string& email) {
  const std::size_t at = email.find('@');
  std::string local = email.substr(0, at);
  std::string host = email.substr(at + 1);
  const std::size_t style = rng.Below(4);
  auto spell = [](const std::string& text, const std::string& dot) {
    std::string out;
    for (char c : text) {
      if (c == '.') {
        out += dot;
      } else {
        out.push_back(c);
      }
    }
    return out;
  };
  switch (style) {
    case 0: return spell(local, " dot ") + " at " + spell(host, " dot ");
    case 1: return local + "[at]" + host;
    case 2: return local + " (at) " + spell(host, " (dot) ");
    default: return spell(local, " . ") + " @ " + spell(host, " . ");
  }
}

// A MAC address grouped by dashes or, as Cisco prints it, by dots in threes.
std::string MacGrouped(Rng& rng) {
  static const std::string kHex = "0123456789ABCDEF";
  std::string hex;
  for (int i = 0; i < 12; ++i) hex.push_back(kHex[rng.Below(16)]);
  if (hex.find_first_of("0123456789") == std::string::npos) hex[0] = '0';
  std::string out;
  const bool dashes = rng.Chance(0.6);
  for (std::size_t i = 0; i < 12; ++i) {
    if (dashes && i > 0 && i % 2 == 0) out.push_back('-');
    if (!dashes && i > 0 && i % 4 == 0) out.push_back('.');
    out.push_back(hex[i]);
  }
  return out;
}

// A phone number spelled out digit by digit, as a patient types one past a filter that reads
// digits: "six one seven, five five five, zero one four two", "617 five five five 0142".
std::string PhoneWords(Rng& rng) {
  static constexpr std::array<std::string_view, 10> kWords = {"zero", "one", "two",   "three", "four",
                                                              "five", "six", "seven", "eight", "nine"};
  const std::string area = rng.Pick(AreaCodes());
  const std::string line = "01" + Digits(rng, 2);
  const bool oh = rng.Chance(0.3);  // "oh" for zero
  auto words = [&](std::string_view digits) {
    std::string out;
    for (char c : digits) {
      if (!out.empty()) out.push_back(' ');
      out += c == '0' && oh ? std::string_view("oh") : kWords[static_cast<std::size_t>(c - '0')];
    }
    return out;
  };
  switch (rng.Below(3)) {
    case 0: return words(area) + ", " + words("555") + ", " + words(line);
    case 1: return area + " " + words("555") + " " + line;
    default: return words(area + "555" + line);
  }
}

// A Medicare number read off the card in its printed groups: "1EG4 TE5 MK73".
std::string MbiSpaced(Rng& rng) {
  std::string s = Mbi(rng);
  std::erase(s, '-');
  return s.substr(0, 4) + " " + s.substr(4, 3) + " " + s.substr(7);
}

// A post office box however it is written: "P.O. Box 4412", "Post Office Box 12", "POB 77".
std::string PoBox(Rng& rng) {
  static constexpr std::array<std::string_view, 5> kForms = {"P.O. Box", "PO Box", "Post Office Box", "POB",
                                                             "P O Box"};
  return std::string(kForms[rng.Below(kForms.size())]) + " " + std::to_string(rng.Between(1, 9999));
}

// A date of birth as a form or a hurried hand writes it: "03 04 1961", "030461", "19610304",
// "04MAR1961", "3 / 4 / 1961", "3/61".
std::string DobCompact(Rng& rng) {
  static const std::array<std::string_view, 12> kMon = {"JAN", "FEB", "MAR", "APR", "MAY", "JUN",
                                                         "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"};
  const int year = rng.Between(1925, 2015);
  const int month = rng.Between(1, 12);
  const int day = rng.Between(1, 28);
  switch (rng.Below(6)) {
    case 0: return Pad(month, 2) + " " + Pad(day, 2) + " " + std::to_string(year);
    case 1: return Pad(month, 2) + Pad(day, 2) + Pad(year % 100, 2);
    case 2: return std::to_string(year) + Pad(month, 2) + Pad(day, 2);
    case 3: return Pad(day, 2) + std::string(kMon[static_cast<std::size_t>(month - 1)]) + std::to_string(year);
    case 4: return std::to_string(month) + " / " + std::to_string(day) + " / " + std::to_string(year);
    default: return std::to_string(month) + "/" + Pad(year % 100, 2);
  }
}

std::string Url(Rng& rng, const PatientRecord& p, const std::string& mrn) {
  std::string first;
  std::string last;
  for (char c : p.first) {
    if (std::isalpha(static_cast<unsigned char>(c))) first.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
  }
  for (char c : p.last) {
    if (std::isalpha(static_cast<unsigned char>(c))) last.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
  }
  switch (rng.Below(6)) {
    case 0: return "https://www.example.com/~" + first.substr(0, 1) + last;
    case 1: return "https://photos.example.net/u/" + first + "." + last;
    case 2: return "https://portal.example.org/patient/" + mrn;
    case 3: return "www.example.org/profile/" + first.substr(0, 1) + last + std::to_string(rng.Between(1, 99));
    case 4: return "https://fundraiser.example.com/f/help-" + first + "-" + last;
    default: return "example.net/family/" + last + "?id=" + Digits(rng, 4);
  }
}

// ---- Templates -------------------------------------------------------------------------------

struct Template {
  Genre genre;
  MessageKind kind;
  const char* text;
};

constexpr Genre kChat = Genre::kStaffChat;
constexpr Genre kPatient = Genre::kPatientMessage;
constexpr Genre kTriage = Genre::kTriageNote;
constexpr Genre kForum = Genre::kForumPost;
constexpr Genre kEhr = Genre::kEhrFragment;
constexpr MessageKind kPhi = MessageKind::kPhi;
constexpr MessageKind kClean = MessageKind::kClean;
constexpr MessageKind kHard = MessageKind::kHardNegative;

// Slots: {NAME} {LAST} {DOB} {DATE} {PHONE} {EMAIL} {SSN} {MRN} {MBI} {MEMBER} {ACCOUNT} {CARD}
// {DEA} {LICENSE} {NPI} {VIN} {PLATE} {IMEI} {MAC} {SERIAL} {URL} {IP} {IPV6} {ZIP} {STREET}
// {CITY} {ADDRESS} {AGE90} {AGESHORT} {PHONEINTL} {EMAILSPELLED} {MACGROUPED} {DOBCOMPACT}
// {PHONEWORDS} {MBISPACED} {POBOX} {DATETIME} (its date) are PHI; {STAFF} {FIRST} {DOSE} {VITALS} {LAB} {ICD} {YEAR} {AGE}
// {TIME} {ROOM} {ORDER} {DRUG} {SCORE} {NDC} {CPT} {STATE} are not.
// Templates alternate between the tuning half (even positions) and the held-out half (odd),
// and come in pairs covering the same identifiers in different words.
const std::vector<Template>& Templates() {
  static const std::vector<Template> templates = {
      // --- staff chat
      {kChat, kPhi, "pt {NAME} in {ROOM} is asking for {DRUG} again, can someone check?"},
      {kChat, kPhi, "can u look at {NAME} in {ROOM}? {VITALS}, family wants update"},
      {kChat, kPhi, "FYI {NAME} DOB {DOB} is being transferred to 5 West tonight"},
      {kChat, kPhi, "heads up: {NAME} (dob {DOB}) coming up from the ED, {VITALS}"},
      {kChat, kPhi, "Daughter of {NAME} called, wants a callback at {PHONE}"},
      {kChat, kPhi, "Mrs. {LAST}'s son says call him on his cell {PHONE} after {TIME}"},
      {kChat, kPhi, "MRN {MRN} labs back: {LAB}, please review"},
      {kChat, kPhi, "can someone pull chart {MRN}? {LAB} and need to adjust {DRUG}"},
      {kChat, kPhi, "{NAME} MRN {MRN} needs {DRUG} {DOSE} before {TIME}"},
      {kChat, kPhi, "ok giving {DRUG} {DOSE} to {NAME} now, mrn {MRN}"},
      {kChat, kPhi, "who has pt {LAST}? admitted {DATE}, still waiting on {ICD} workup"},
      {kChat, kPhi, "Mr {LAST} was seen {DATE} for the same complaint, {VITALS}"},
      {kChat, kPhi, "Pt is a {AGE90} y/o female, {NAME}, fall at home, {VITALS}"},
      {kChat, kPhi, "{AGE90} yo male {NAME} w/ {ICD} on {DRUG}"},
      {kChat, kPhi, "{NAME} lives at {STREET}, {CITY}, {STATE} {ZIP} - home health referral"},
      {kChat, kPhi, "home address for {NAME} is {STREET} {CITY} {STATE} {ZIP}"},
      {kChat, kPhi, "billing needs acct {ACCOUNT} for {NAME}"},
      {kChat, kPhi, "account number {ACCOUNT} on file for pt {LAST} is wrong"},
      {kChat, kPhi, "pharmacy says prescriber NPI {NPI} isn't matching, DEA {DEA}"},
      {kChat, kPhi, "need the NPI {NPI} and DEA# {DEA} on the script for {NAME}"},
      {kChat, kPhi, "family's car VIN {VIN} blocking the ambulance bay, plate {PLATE}"},
      {kChat, kPhi, "security: vehicle VIN {VIN}, license plate {PLATE}, owner is visiting {LAST}"},
      {kChat, kPhi, "{NAME}'s pacemaker serial {SERIAL}, rep coming at {TIME}"},
      {kChat, kPhi, "device interrogation for {NAME}: ICD serial number {SERIAL}"},
      {kChat, kPhi, "IT says the portal login for {NAME} came from {IP}"},
      {kChat, kPhi, "flagged access from ip {IP} on {NAME}'s chart"},
      {kChat, kPhi, "{NAME} SSN {SSN} needed for the disability form"},
      {kChat, kPhi, "social security # {SSN} for {NAME} is on the intake sheet"},
      {kChat, kPhi, "insurance member id {MEMBER} for {NAME}, prior auth pending"},
      {kChat, kPhi, "Medicare MBI {MBI} for {NAME}, please verify eligibility"},
      {kChat, kPhi, "{NAME} gave her email {EMAIL} for the portal invite"},
      {kChat, kPhi, "send the discharge summary for {NAME} to {EMAIL}"},
      // --- patient messages
      {kPatient, kPhi, "Hi this is {NAME}, my date of birth is {DOB}. I need a refill of my {DRUG}."},
      {kPatient, kPhi, "hello, I'm {NAME} born {DOB}, can I move my appointment?"},
      {kPatient, kPhi, "Please call me back at {PHONE}, this is {NAME}"},
      {kPatient, kPhi, "you can reach me at {PHONE} or {EMAIL}. thanks, {NAME}"},
      {kPatient, kPhi, "My new address is {STREET}, {CITY}, {STATE} {ZIP}. {NAME}"},
      {kPatient, kPhi, "we moved to {STREET} in {CITY}, {STATE} {ZIP}, please update my file"},
      {kPatient, kPhi, "my insurance changed, new member ID {MEMBER}. {NAME}, DOB {DOB}"},
      {kPatient, kPhi, "Medicare number {MBI}, name {NAME}"},
      {kPatient, kPhi, "I paid with my card {CARD} but the bill still shows a balance"},
      {kPatient, kPhi, "charge the copay to my visa {CARD} please"},
      {kPatient, kPhi, "my ssn is {SSN} for the financial aid form"},
      {kPatient, kPhi, "SSN: {SSN}  DOB: {DOB}  name {NAME}"},
      {kPatient, kPhi, "my mother {NAME} is {AGE90} years old and fell again yesterday"},
      {kPatient, kPhi, "Dad ({NAME}) is {AGE90} yrs old, can he get the home visit?"},
      {kPatient, kPhi, "I can't log in, my MRN is {MRN} and my email {EMAIL}"},
      {kPatient, kPhi, "my record number {MRN}, I need my lab results please"},
      {kPatient, kPhi, "my CGM serial {SERIAL} stopped syncing to my phone"},
      {kPatient, kPhi, "insulin pump serial no. {SERIAL} is alarming, what do I do"},
      {kPatient, kPhi, "the app shows my phone IMEI {IMEI} is not registered"},
      {kPatient, kPhi, "tablet for the home monitor, imei {IMEI}, mac {MAC}"},
      {kPatient, kPhi, "I set up a fundraiser for my surgery: {URL}"},
      {kPatient, kPhi, "here's my blog about recovery {URL}"},
      {kPatient, kPhi, "my driver's license number is {LICENSE} for the parking permit"},
      {kPatient, kPhi, "DL {LICENSE}, need it for the handicap placard form"},
      {kPatient, kPhi, "please bill account {ACCOUNT}, not my husband's"},
      {kPatient, kPhi, "statement says acct# {ACCOUNT} but that's not mine"},
      {kPatient, kPhi, "I was admitted on {DATE} and discharged {DATE}, need a letter for work"},
      {kPatient, kPhi, "my surgery was {DATE}, when should I come back?"},
      {kPatient, kPhi, "I'm {NAME}, my fax is {PHONE}, please fax the forms"},
      {kPatient, kPhi, "fax number {PHONE} attn {NAME}"},
      // --- triage notes
      {kTriage, kPhi, "Caller {NAME}, DOB {DOB}, cb {PHONE}. c/o chest pain x2h, {VITALS}."},
      {kTriage, kPhi, "Pt {NAME} dob {DOB} called re: fever, callback number {PHONE}"},
      {kTriage, kPhi, "Triage: {AGE90}yo F {NAME}, MRN {MRN}, SOB, {VITALS}, advised ED"},
      {kTriage, kPhi, "{NAME}, age {AGE90}, mrn {MRN}: dizziness since {TIME}, {VITALS}"},
      {kTriage, kPhi, "Spouse called for {NAME} ({LAST} household), address {STREET}, {CITY}"},
      {kTriage, kPhi, "EMS dispatched to {STREET}, {CITY}, {STATE} {ZIP} for pt {LAST}"},
      {kTriage, kPhi, "last seen {DATE}; {NAME} reports rash after {DRUG} {DOSE}"},
      {kTriage, kPhi, "Pt {LAST} discharged {DATE}, now with {ICD}-like symptoms, {VITALS}"},
      {kTriage, kPhi, "Returned call to {PHONE}, left VM for {NAME}"},
      {kTriage, kPhi, "phone {PHONE} disconnected, emailed {NAME} at {EMAIL}"},
      {kTriage, kPhi, "Caller reports pt {NAME} MRN {MRN} took extra {DRUG} {DOSE}"},
      {kTriage, kPhi, "Poison control ref for {NAME}, chart {MRN}, ingestion at {TIME}"},
      // --- forum posts
      {kForum, kPhi, "Does anyone know {NAME}? She was on 4 North with me, her number was {PHONE}"},
      {kForum, kPhi, "Looking for {NAME}, we shared a room in {YEAR}. email me at {EMAIL}"},
      {kForum, kPhi, "My husband {NAME} (born {DOB}) had the same thing, his page is {URL}"},
      {kForum, kPhi, "follow my journey at {URL}! - {NAME}"},
      {kForum, kPhi, "I'm {AGE90} years old and still walking every day. {NAME} from {CITY}, {STATE}"},
      {kForum, kPhi, "{NAME} here, {AGE90} yo, living in {CITY}, {STATE} with {ICD}"},
      {kForum, kPhi, "we live at {STREET} if anyone wants to drop off meals, {NAME}"},
      {kForum, kPhi, "support group meets at my place {STREET}, {CITY} {STATE} {ZIP}"},
      // --- pasted EHR fragments
      {kEhr, kPhi, "Name: {NAME}\nDOB: {DOB}\nMRN: {MRN}\nAllergies: NKDA\nDx: {ICD}"},
      {kEhr, kPhi, "PATIENT: {NAME}   MRN#: {MRN}   DOB: {DOB}   PCP NPI: {NPI}"},
      {kEhr, kPhi, "Guarantor: {NAME}  Phone: {PHONE}  Address: {STREET}, {CITY}, {STATE} {ZIP}"},
      {kEhr, kPhi, "Emergency contact {NAME}, tel {PHONE}, {STREET} {CITY} {STATE} {ZIP}"},
      {kEhr, kPhi, "Insurance: Medicare  MBI: {MBI}  Secondary member #: {MEMBER}"},
      {kEhr, kPhi, "Primary insurance policy {MEMBER}; Medicare beneficiary id {MBI}"},
      {kEhr, kPhi, "SSN: {SSN}\nDL#: {LICENSE}\nAcct: {ACCOUNT}"},
      {kEhr, kPhi, "social sec no {SSN}; driver license {LICENSE}; billing account {ACCOUNT}"},
      {kEhr, kPhi, "Implant record: device serial {SERIAL}, UDI-DI on file, pt {NAME} DOB {DOB}"},
      {kEhr, kPhi, "Devices: ICD sn {SERIAL}; home monitor IMEI {IMEI}; MAC {MAC}"},
      {kEhr, kPhi, "Portal audit: user {EMAIL} from {IP} and {IPV6} viewed MRN {MRN}"},
      {kEhr, kPhi, "login for {NAME} from IPv6 {IPV6}, ip {IP}"},
      {kEhr, kPhi, "{LAST}, {FIRSTOF} MRN {MRN} adm {DATE} dc {DATE} attending NPI {NPI}"},
      {kEhr, kPhi, "{NAME} | DOB {DOB} | Admit date {DATE} | Room {ROOM}"},
      {kEhr, kPhi, "Vehicle: {VIN} / plate {PLATE} (MVA, pt {NAME})"},
      {kEhr, kPhi, "MVC report: car VIN {VIN}, tags {PLATE}, driver {NAME} age {AGE90}"},
      {kEhr, kPhi, "Payment: card {CARD} exp 09/29 authorized for {NAME}"},
      {kEhr, kPhi, "CC on file {CARD}, guarantor acct {ACCOUNT}"},
      {kEhr, kPhi, "Rx: {DRUG} {DOSE}, prescriber DEA {DEA}, NPI {NPI}, pt {NAME}"},
      {kEhr, kPhi, "Prescriber: Dr. {STAFFLAST} NPI {NPI} DEA {DEA}"},
      {kChat, kPhi, "lol {NAME} just called again from {PHONE}, 3rd time today"},
      {kChat, kPhi, "{NAME} is back!! mrn {MRN}, same room as last time"},
      {kPatient, kPhi, "Hi Dr. {STAFFLAST}, it's {NAME}. My birthday is {DOB} if you need it."},
      {kPatient, kPhi, "this is {NAME}'s wife, her DOB {DOB}, call me {PHONE}"},
      {kTriage, kPhi, "VM from {NAME}, states DOB {DOB}, SSN {SSN}, wants billing callback"},
      {kTriage, kPhi, "called {NAME} x2, no answer at {PHONE}; sent portal msg to {EMAIL}"},
      {kForum, kPhi, "anyone else see Dr. {STAFFLAST}? I'm {NAME}, diagnosed {DATE} with {ICD}"},
      {kForum, kPhi, "{NAME} from {CITY} - diagnosed {DATE}, still fighting!"},
      // forms found typed by staff and patients that the templates above lack
      {kChat, kPhi, "{AGESHORT} with UTI, {NAME} in {ROOM}, needs {DRUG}"},
      {kTriage, kPhi, "Triage: {AGESHORT} c/o SOB, {NAME}, cb {PHONE}"},
      {kPatient, kPhi, "while I'm abroad my cell is {PHONEINTL} - {NAME}"},
      {kForum, kPhi, "{NAME} here, text me on {PHONEINTL} if you are nearby"},
      {kForum, kPhi, "you can write me at {EMAILSPELLED} - {NAME}"},
      {kPatient, kPhi, "my new email is {EMAILSPELLED}, please update my chart"},
      {kTriage, kPhi, "{NAME}'s home monitor mac {MACGROUPED} stopped reporting"},
      {kEhr, kPhi, "Device: bedside monitor\nMAC: {MACGROUPED}\nPatient: {NAME}"},
      {kEhr, kPhi, "DOB: {DOBCOMPACT}  MRN: {MRN}"},
      {kChat, kPhi, "need the dob {DOBCOMPACT} confirmed for {NAME}"},
      {kForum, kPhi, "{NAME} here, call me at {PHONEWORDS} if you want to talk"},
      {kPatient, kPhi, "my daughter's number is {PHONEWORDS}, she can answer for me - {NAME}"},
      {kEhr, kPhi, "Medicare card read by phone: MBI {MBISPACED}, pt {NAME}"},
      {kTriage, kPhi, "{NAME} read her Medicare number off the card: {MBISPACED}"},
      {kEhr, kPhi, "ADT: {NAME} admitted {DATETIME} to 5 West"},
      {kEhr, kPhi, "Discharged {DATETIME}, {NAME} home with family"},
      {kPatient, kPhi, "please mail my records to {POBOX}, {CITY} - {NAME}"},
      {kEhr, kPhi, "Mailing address: {POBOX}\nPatient: {NAME}"},
      {kChat, kPhi, "{LAST} family at bedside, they want an update at {TIME}"},
      {kTriage, kPhi, "Spoke with the {LAST} family, they will call {PHONE}"},
      {kPatient, kPhi, "My mother is {AGE90}. She fell again, please call {PHONE}"},
      {kChat, kPhi, "pt {NAME} turns {AGE90} tomorrow, the family is bringing cake"},

      // --- PHI-free clinical messages
      {kChat, kClean, "can someone cover {ROOM} for 20 min, I need to run to pharmacy"},
      {kChat, kClean, "who is charge tonight? {FIRST} is out sick"},
      {kChat, kClean, "pharmacy says the {DRUG} shortage continues through next week"},
      {kChat, kClean, "Dr. {STAFFLAST} wants all the post-op pts ambulated before lunch"},
      {kChat, kClean, "reminder: skills fair is in the conference room at {TIME}"},
      {kChat, kClean, "Pyxis on 4 North is down again, use the one on 4 South"},
      {kChat, kClean, "thanks {FIRST}! owe you a coffee"},
      {kChat, kClean, "bed board is full, ED holding 6 admits"},
      {kChat, kClean, "Can we switch the huddle to {TIME}? rounds are running late"},
      {kChat, kClean, "great job on the code today everyone, debrief at {TIME}"},
      {kChat, kClean, "new sepsis bundle policy is posted on the intranet"},
      {kChat, kClean, "does anyone know the extension for transport?"},
      {kChat, kClean, "I'll take the next admit, {FIRST} has three already"},
      {kChat, kClean, "Dr. {STAFFLAST} is covering for Dr. {STAFFLAST} this weekend"},
      {kPatient, kClean, "Thank you so much for the care last week, the nurses were wonderful."},
      {kPatient, kClean, "Is the clinic open on the holiday? I want to drop off a form."},
      {kPatient, kClean, "I'm feeling much better, the new medication is working"},
      {kPatient, kClean, "Can I take ibuprofen with my blood pressure medicine?"},
      {kPatient, kClean, "what time does the lab open on Saturdays?"},
      {kPatient, kClean, "My knee still hurts when I climb stairs, should I keep icing it?"},
      {kPatient, kClean, "do I need to fast before my blood test"},
      {kPatient, kClean, "the parking garage was full, is there another lot?"},
      {kForum, kClean, "Anyone have tips for sleeping after shoulder surgery?"},
      {kForum, kClean, "Week three of chemo done! Tired but hanging in there."},
      {kForum, kClean, "What helped you most with the fatigue? I'm trying to walk every day."},
      {kForum, kClean, "Does the support group still meet on Thursdays?"},
      {kForum, kClean, "I found that small meals helped the nausea a lot"},
      {kForum, kClean, "Grateful for this community, you all got me through a rough month"},
      {kTriage, kClean, "Caller asking about visiting hours, informed 8am to 8pm"},
      {kTriage, kClean, "General question about flu shots, advised pharmacy walk-in"},
      {kTriage, kClean, "Caller wanted directions to the imaging center, provided"},
      {kTriage, kClean, "Question about parking validation, transferred to front desk"},
      {kEhr, kClean, "Allergies: NKDA\nCode status: Full\nDiet: cardiac"},
      {kEhr, kClean, "Plan: continue current regimen, follow up in clinic, return precautions given"},
      {kEhr, kClean, "Assessment: improving. Plan: wean O2, PT/OT eval, advance diet as tolerated"},
      {kEhr, kClean, "ROS negative except as noted in HPI. Exam unremarkable."},
      {kChat, kClean, "Policy effective {POLICYDATE}: double-check all insulin drips"},
      {kChat, kClean, "Staff meeting moved to {POLICYDATE} at {TIME}"},
      {kChat, kClean, "may need extra hands on 6 tonight, will let you know"},
      {kChat, kClean, "will call you back in 5, with a family"},
      {kChat, kClean, "who has the keys to the narcotics cabinet? {FIRST} said she left them"},
      {kChat, kClean, "can someone page Dr. {STAFFLAST} to the ED"},
      {kPatient, kClean, "Hope you all have a great holiday season!"},
      {kPatient, kClean, "will the doctor be back next week? I'd rather see her"},

      // --- hard negatives: numbers and words that look like identifiers but are not PHI
      {kChat, kHard, "{VITALS}, {LAB}, giving {DRUG} {DOSE} now"},
      {kChat, kHard, "{LAB} this morning, {LAB} last night, trending down"},
      {kChat, kHard, "started {DRUG} {DOSE} q6h, {VITALS}"},
      {kChat, kHard, "Dx {ICD} and {ICD}, on {DRUG} {DOSE} daily"},
      {kChat, kHard, "order {ORDER} for {DRUG} is stuck in verification"},
      {kChat, kHard, "lab accession {ORDER} hemolyzed, redraw needed"},
      {kChat, kHard, "{AGE} y/o M with {ICD}, {VITALS}, {SCORE}"},
      {kChat, kHard, "{AGE}yo F, hx {ICD}, {LAB}, {LAB}"},
      {kChat, kHard, "{SCORE}, {VITALS}, plan to recheck at {TIME}"},
      {kChat, kHard, "{SCORE} after {DRUG}, {SCORE} now"},
      {kChat, kHard, "NDC {NDC} is the one on backorder, lot {LOT}"},
      {kChat, kHard, "CPT {CPT} billed twice for the same visit, please fix"},
      {kChat, kHard, "since {YEAR} we've used the new pump protocol"},
      {kChat, kHard, "hx of {ICD} since {YEAR}, {DRUG} {DOSE}"},
      {kChat, kHard, "Dr. {STAFFLAST} says hold the {DRUG} if {VITALS}"},
      {kChat, kHard, "ask Dr. {STAFFLAST} about the {DRUG} {DOSE} order"},
      {kTriage, kHard, "{AGE} yo caller with {SCORE}, {VITALS}, advised urgent care"},
      {kTriage, kHard, "Home reading {VITALS}, {LAB}, taking {DRUG} {DOSE}"},
      {kTriage, kHard, "took {DOSE} of {DRUG} at {TIME}, {VITALS}"},
      {kTriage, kHard, "symptoms x3 days, {VITALS}, {SCORE}"},
      {kEhr, kHard, "Vitals: {VITALS}\nLabs: {LAB}, {LAB}, {LAB}\nDx: {ICD}"},
      {kEhr, kHard, "Meds: {DRUG} {DOSE} BID; {DRUG} {DOSE} daily\nICD-10: {ICD}"},
      {kEhr, kHard, "Order #{ORDER} | {DRUG} {DOSE} | NDC {NDC} | lot {LOT}"},
      {kEhr, kHard, "Specimen {ORDER}: {LAB}; {LAB}; {LAB}"},
      {kEhr, kHard, "Problem list: {ICD}, {ICD}, {ICD} (since {YEAR})"},
      {kEhr, kHard, "Procedure CPT {CPT}, {CPT}; dx {ICD}"},
      {kEhr, kHard, "I/O: in 1200 mL, out 850 mL; weight 82.4 kg; {VITALS}"},
      {kEhr, kHard, "Vent: FiO2 40%, PEEP 8, TV 450 mL, RR 16; ABG 7.38/42/88"},
      {kForum, kHard, "my A1c went from 9.1 to 6.8 in {YEAR}!! {DRUG} {DOSE} works"},
      {kForum, kHard, "I'm {AGE} and was diagnosed with Parkinson's in {YEAR}"},
      {kForum, kHard, "Crohn's flare, on {DRUG} {DOSE}, {LAB}"},
      {kForum, kHard, "my BP was 142/91 this morning, is that bad?"},
      {kPatient, kHard, "my sugar was {GLUCOSE} this morning and {GLUCOSE} after lunch"},
      {kPatient, kHard, "I take {DRUG} {DOSE} twice a day, should I double it?"},
      {kPatient, kHard, "pain is {PAIN} today, better than yesterday"},
      {kPatient, kHard, "weight 182 lbs, BP 130/85, pulse 72"},
      {kPatient, kHard, "Texas and California both have the new program, which one applies in {YEAR}?"},
      {kPatient, kHard, "I was born in {YEAR} and have had asthma since I was {AGE}"},
      {kChat, kHard, "May is covering the floor, Will is in clinic, Hope is charge"},
      {kChat, kHard, "Rose from pharmacy says the {DRUG} is ready"},
      // shorthand that reads like an identifier and is none
      {kChat, kHard, "temp 101F overnight, tylenol given, {VITALS}"},
      {kChat, kHard, "Tmax 102F, blood cultures sent, {LAB}"},
      {kChat, kHard, "pain 8/10 since surgery, {DRUG} {DOSE} given"},
      {kChat, kHard, "admitted 2/2 sepsis, {VITALS}"},
      {kChat, kHard, "billing code {CPT} for the consult, please fix"},
      {kChat, kHard, "app build 2.1.0.5 pushed by IT, restart the pumps"},
      {kChat, kHard, "scan 1/2 done, rest after lunch"},
      {kChat, kHard, "lot 12-34-56 expires next month"},
      {kForum, kHard, "we met at example.com's booth, great people"},
      {kChat, kHard, "Dr. {STAFFLAST}'s wife brought cake for the unit"},
      // numbers in words that are no number, and an extension
      {kForum, kHard, "day one, two, three of the walking challenge, five more to go"},
      {kChat, kHard, "count one two three four five six seven eight nine ten with her"},
      {kChat, kHard, "hospital main line x4021 is down, use the backup"},
      {kChat, kHard, "dx HTN 1/2 yrs ago, {DRUG} {DOSE} since"},
  };
  return templates;
}

// Templates added after the corpus above was fixed: their messages come after its messages,
// drawn from them alone, so that every message before them stays as it was. Ids continue
// Templates()'s, alternating halves the same way. Slots: {KINNAME} a relative's first and last
// name, both the index's but not one patient's; {AGE90WORDS} an age over 89 spelled out;
// {BIRTHYEAR90} a year of birth ninety or more years back.
const std::vector<Template>& LaterTemplates() {
  static const std::vector<Template> templates = {
      {kChat, kPhi, "pt's son ({KINNAME}) called, wants an update after {TIME}"},
      {kChat, kPhi, "the daughter, {KINNAME}, wants a call back before rounds"},
      {kEhr, kPhi, "Next of kin: {KINNAME}, phone {PHONE}"},
      {kEhr, kPhi, "Emergency contact: {KINNAME} (spouse) {PHONE}"},
      {kChat, kPhi, "pt is {AGE90WORDS} years old and lives alone, {VITALS}"},
      {kPatient, kPhi, "Mom just turned {AGE90WORDS}, can she still get the home visits?"},
      {kChat, kPhi, "she was born in {BIRTHYEAR90}, still sharp, {VITALS}"},
      {kEhr, kPhi, "DOB {BIRTHYEAR90}, exact date unknown per family"},
      // numbers in words and old years that tell no one's age
      {kChat, kHard, "waited ninety minutes for transport again, {VITALS}"},
      {kForum, kHard, "the clinic opened in 1926 and turns a hundred this year"},
  };
  return templates;
}

// Templates added after the later ones, the same way: their messages come after the later
// templates' messages, one in fifty more, and ids continue theirs. Slots: {SSNLAST4} the last four
// digits of an SSN, {SSNMASKED} an SSN masked but for them ("xxx-xx-4321"): HHS counts a part of
// an identifier as the identifier.
const std::vector<Template>& PartialSsnTemplates() {
  static const std::vector<Template> templates = {
      {kChat, kPhi, "verified her with the last 4 of her SSN {SSNLAST4} and DOB {DOB}"},
      {kEhr, kPhi, "Identity confirmed: SSN last four {SSNLAST4}, photo ID on file"},
      {kChat, kPhi, "insurance form has his social as {SSNMASKED}, can registration fix it?"},
      {kEhr, kPhi, "SSN: {SSNMASKED} (masked per policy)"},
      {kPatient, kPhi, "my social ends in {SSNLAST4} if you need to look me up"},
      {kChat, kPhi, "caller gave ssn ending {SSNLAST4}, matched the chart"},
      // "last 4", "social", "ends" and four digits that are no one's SSN
      {kChat, kHard, "last 4 doses of heparin were {DOSE}, next at {TIME}"},
      {kForum, kHard, "Social work ends the group at 1530, room 4012 on Fridays"},
  };
  return templates;
}

// ---- Filler values (not PHI) -----------------------------------------------------------------

const std::vector<std::string>& Drugs() {
  static const std::vector<std::string> drugs = Split(
      "metoprolol|lisinopril|heparin|insulin glargine|vancomycin|pip-tazo|furosemide|"
      "morphine|hydromorphone|oxycodone|acetaminophen|ondansetron|pantoprazole|apixaban|"
      "warfarin|atorvastatin|metformin|prednisone|ceftriaxone|amlodipine|levothyroxine|"
      "gabapentin|sertraline|albuterol|lorazepam|potassium chloride|magnesium sulfate");
  return drugs;
}

std::string Dose(Rng& rng) {
  static const std::vector<std::string> units = Split("mg|mg|mcg|units|mL|mEq|g");
  static const std::vector<std::string> amounts = Split("0.5|1|2|2.5|4|5|10|12.5|20|25|40|50|81|100|250|325|500|650|1000|5000");
  return rng.Pick(amounts) + " " + rng.Pick(units);
}

std::string Vitals(Rng& rng) {
  switch (rng.Below(6)) {
    case 0: return "BP " + std::to_string(rng.Between(90, 180)) + "/" + std::to_string(rng.Between(50, 110));
    case 1: return "HR " + std::to_string(rng.Between(45, 150));
    case 2: return "RR " + std::to_string(rng.Between(10, 32)) + ", SpO2 " + std::to_string(rng.Between(84, 100)) + "%";
    case 3: return "T " + std::to_string(rng.Between(36, 40)) + "." + std::to_string(rng.Between(0, 9));
    case 4: return "BP " + std::to_string(rng.Between(90, 180)) + "/" + std::to_string(rng.Between(50, 110)) +
                   " HR " + std::to_string(rng.Between(45, 150));
    default: return "sats " + std::to_string(rng.Between(84, 100)) + "% on " + std::to_string(rng.Between(1, 6)) + "L";
  }
}

std::string Lab(Rng& rng) {
  switch (rng.Below(12)) {
    case 0: return "K " + std::to_string(rng.Between(2, 6)) + "." + std::to_string(rng.Between(0, 9));
    case 1: return "Na " + std::to_string(rng.Between(120, 150));
    case 2: return "Hgb " + std::to_string(rng.Between(6, 16)) + "." + std::to_string(rng.Between(0, 9));
    case 3: return "WBC " + std::to_string(rng.Between(2, 25)) + "." + std::to_string(rng.Between(0, 9));
    case 4: return "A1c " + std::to_string(rng.Between(5, 13)) + "." + std::to_string(rng.Between(0, 9));
    case 5: return "glucose " + std::to_string(rng.Between(45, 480));
    case 6: return "INR " + std::to_string(rng.Between(1, 5)) + "." + std::to_string(rng.Between(0, 9));
    case 7: return "Cr " + std::to_string(rng.Between(0, 6)) + "." + std::to_string(rng.Between(0, 9));
    case 8: return "trop 0.0" + std::to_string(rng.Between(1, 9));
    case 9: return "lactate " + std::to_string(rng.Between(0, 8)) + "." + std::to_string(rng.Between(0, 9));
    case 10: return "plt " + std::to_string(rng.Between(20, 450));
    default: return "BNP " + std::to_string(rng.Between(20, 4500));
  }
}

std::string Icd(Rng& rng) {
  static const std::vector<std::string> codes = Split(
      "E11.9|I10|J18.9|N39.0|Z79.4|I48.91|F32.A|M54.5|K21.9|E78.5|J44.1|N18.3|I50.9|R07.9|"
      "A41.9|S72.001A|Z95.0|E66.01|G47.33|R51.9|I21.4|J45.909|K57.30|C50.911");
  return rng.Pick(codes);
}

std::string Score(Rng& rng) {
  switch (rng.Below(5)) {
    case 0: return "pain " + std::to_string(rng.Between(0, 10)) + "/10";
    case 1: return "GCS " + std::to_string(rng.Between(3, 15));
    case 2: return "Apgar " + std::to_string(rng.Between(5, 9)) + "/" + std::to_string(rng.Between(7, 10));
    case 3: return "strength " + std::to_string(rng.Between(3, 5)) + "/5";
    default: return "NIHSS " + std::to_string(rng.Between(0, 20));
  }
}

std::string Order(Rng& rng) {
  // Order and accession numbers that pass Luhn, the classic false positive.
  std::string body = std::to_string(rng.Between(1, 9)) + Digits(rng, rng.Between(8, 10));
  return body + LuhnCheckDigit(body);
}

std::string Time(Rng& rng) {
  switch (rng.Below(3)) {
    case 0: return Pad(rng.Between(0, 23), 2) + Pad(rng.Between(0, 5) * 10, 2);
    case 1: return std::to_string(rng.Between(1, 23)) + ":" + Pad(rng.Between(0, 59), 2);
    default: return std::to_string(rng.Between(1, 12)) + (rng.Chance(0.5) ? "pm" : "am");
  }
}

std::string Room(Rng& rng) {
  switch (rng.Below(3)) {
    case 0: return "room " + std::to_string(rng.Between(100, 999));
    case 1: return "bed " + std::to_string(rng.Between(1, 40));
    default: return std::to_string(rng.Between(2, 12)) + "-" + std::to_string(rng.Between(1, 40));
  }
}

// ---- Assembly --------------------------------------------------------------------------------

struct Piece {
  std::string text;
  bool slot = false;
  bool numeric = false;   // split/spaced/full-width perturbations apply
  std::optional<PhiType> type;
};

bool IsDigitChar(char c) { return c >= '0' && c <= '9'; }

std::string ToLowerAscii(std::string s) {
  for (char& c : s) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return s;
}

std::string SplitDigits(Rng& rng, const std::string& value) {
  std::string digits;
  for (char c : value) {
    if (IsDigitChar(c)) digits.push_back(c);
  }
  if (digits.size() != static_cast<std::size_t>(std::count_if(value.begin(), value.end(), [](char c) {
        return IsDigitChar(c) || c == ' ' || c == '-' || c == '.' || c == '(' || c == ')' || c == '+';
      }))) {
    return value;  // letters inside: leave as is
  }
  static const std::vector<std::string> seps = Split(" |-|.| - ");
  std::string out;
  for (std::size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && i + 1 < digits.size() && rng.Chance(0.25)) out += rng.Pick(seps);
    out.push_back(digits[i]);
  }
  return out;
}

std::string SpaceDigits(const std::string& value) {
  std::string out;
  for (std::size_t i = 0; i < value.size(); ++i) {
    if (IsDigitChar(value[i]) && !out.empty() && IsDigitChar(out.back())) out.push_back(' ');
    out.push_back(value[i]);
  }
  return out;
}

std::string FullWidth(const std::string& value) {
  std::string out;
  for (char c : value) {
    if (IsDigitChar(c)) {
      out += "\xEF\xBC";  // U+FF10.. in UTF-8: EF BC 90..99
      out.push_back(static_cast<char>(0x90 + (c - '0')));
    } else {
      out.push_back(c);
    }
  }
  return out;
}

std::string ZeroWidth(Rng& rng, const std::string& value) {
  if (value.size() < 3) return value;
  std::string out = value;
  for (int k = 0; k < 2; ++k) {
    std::size_t pos = 1 + rng.Below(out.size() - 2);
    // Only between ASCII characters, so UTF-8 sequences stay whole.
    if (static_cast<unsigned char>(out[pos]) >= 0x80 || static_cast<unsigned char>(out[pos - 1]) >= 0x80) continue;
    out.insert(pos, "\xE2\x80\x8B");
  }
  return out;
}

std::string Typos(Rng& rng, const std::string& text) {
  std::string out = text;
  std::size_t i = 0;
  while (i < out.size()) {
    std::size_t j = i;
    while (j < out.size() && std::isalpha(static_cast<unsigned char>(out[j]))) ++j;
    if (j - i >= 4 && rng.Chance(0.2)) {
      const std::size_t k = i + 1 + rng.Below(j - i - 2);
      if (rng.Chance(0.5)) {
        std::swap(out[k], out[k + 1]);
      } else {
        out.erase(k, 1);
        --j;
      }
    }
    i = j + 1;
  }
  return out;
}

// A patient's name typed in a hurry: one word of it (of four letters or more) with one slip,
// never in its first letter: two neighbours swapped, a letter left out, doubled or changed.
std::string NameSlip(Rng& rng, const std::string& name) {
  std::vector<std::pair<std::size_t, std::size_t>> words;  // [begin, end) of letters
  for (std::size_t i = 0; i < name.size();) {
    std::size_t j = i;
    while (j < name.size() && std::isalpha(static_cast<unsigned char>(name[j]))) ++j;
    if (j - i >= 4) words.emplace_back(i, j);
    i = j + 1;
  }
  if (words.empty()) return name;
  const auto [begin, end] = words[rng.Below(words.size())];
  const std::size_t k = begin + 1 + rng.Below(end - begin - 1);  // never the first letter
  std::string out = name;
  const bool upper = std::isupper(static_cast<unsigned char>(out[k])) != 0;
  switch (rng.Below(4)) {
    case 0:
      if (k + 1 < end) {
        std::swap(out[k], out[k + 1]);
      } else {
        std::swap(out[k - 1], out[k]);
      }
      break;
    case 1: out.erase(k, 1); break;
    case 2: out.insert(k, 1, out[k]); break;
    default: {
      char c = static_cast<char>('a' + rng.Below(26));
      if (upper) c = static_cast<char>(c - 'a' + 'A');
      out[k] = c;
      break;
    }
  }
  return out;
}

std::string NoPunctuation(const std::string& text) {
  std::string out;
  for (char c : text) {
    if (c == ':' || c == ',' || c == '.' || c == '#' || c == ';' || c == '(' || c == ')') continue;
    out.push_back(c);
  }
  return out;
}

class Generator {
 public:
  Generator(const CorpusOptions& options)
      : rng_(options.seed), slip_rng_(options.seed ^ 0x5113u), options_(options) {}

  Corpus Run() {
    Corpus corpus;
    BuildIndex(corpus);
    const auto& templates = Templates();
    std::vector<std::size_t> phi;
    std::vector<std::size_t> clean;
    std::vector<std::size_t> hard;
    for (std::size_t i = 0; i < templates.size(); ++i) {
      (templates[i].kind == kPhi ? phi : templates[i].kind == kClean ? clean : hard).push_back(i);
    }
    for (std::size_t m = 0; m < options_.messages; ++m) {
      const double r = static_cast<double>(m % 100) / 100.0;
      const auto& pool = r < 0.6 ? phi : r < 0.8 ? clean : hard;
      const std::size_t id = pool[rng_.Below(pool.size())];
      corpus.messages.push_back(Make(static_cast<int>(id), templates[id], corpus));
    }
    // The later templates' messages, one in twenty more.
    const auto& later = LaterTemplates();
    for (std::size_t m = 0; m < options_.messages / 20; ++m) {
      const std::size_t j = rng_.Below(later.size());
      corpus.messages.push_back(Make(static_cast<int>(templates.size() + j), later[j], corpus));
    }
    // And the partial SSNs', one in fifty more.
    const auto& partial = PartialSsnTemplates();
    for (std::size_t m = 0; m < options_.messages / 50; ++m) {
      const std::size_t j = rng_.Below(partial.size());
      corpus.messages.push_back(Make(static_cast<int>(templates.size() + later.size() + j), partial[j], corpus));
    }
    return corpus;
  }

 private:
  void BuildIndex(Corpus& corpus) {
    std::vector<std::string> surnames = CommonSurnames();
    const std::vector<std::string> made_up = MadeUpSurnames(rng_, 15000);
    std::unordered_set<std::string> mrns;
    std::unordered_set<std::string> pairs;
    corpus.patients.reserve(options_.index_size);
    while (corpus.patients.size() < options_.index_size) {
      PatientRecord p;
      p.first = rng_.Pick(FirstNames());
      p.last = rng_.Chance(0.5) ? rng_.Pick(surnames) : rng_.Pick(made_up);
      if (!pairs.insert(p.first + "|" + p.last).second) continue;
      do {
        p.mrn = std::to_string(rng_.Between(1, 9)) + Digits(rng_, 7);
      } while (!mrns.insert(p.mrn).second);
      corpus.patients.push_back(std::move(p));
    }
  }

  std::string NameForm(const PatientRecord& p) {
    switch (rng_.Below(8)) {
      case 0: return p.last + ", " + p.first;
      case 1: return ToUpper(p.last) + ", " + ToUpper(p.first);
      case 2: return p.first + " " + std::string(1, static_cast<char>('A' + rng_.Below(26))) + ". " + p.last;
      default: return p.first + " " + p.last;
    }
  }

  static std::string ToUpper(std::string s) {
    for (char& c : s) {
      if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
    }
    return s;
  }

  // Expands one slot into pieces (most slots are one piece; {ADDRESS}-like slots are several).
  void Expand(const std::string& slot, const PatientRecord& p, std::vector<Piece>& out) {
    auto phi = [&](PhiType type, std::string value, bool numeric) {
      out.push_back({std::move(value), true, numeric, type});
    };
    auto text = [&](std::string value) { out.push_back({std::move(value), false, false, std::nullopt}); };
    if (slot == "NAME") return phi(PhiType::kName, NameForm(p), false);
    if (slot == "LAST") return phi(PhiType::kName, p.last, false);
    if (slot == "FIRSTOF") return phi(PhiType::kName, p.first, false);
    if (slot == "DOB") return phi(PhiType::kDate, Date(rng_, true), false);
    if (slot == "DATE") return phi(PhiType::kDate, Date(rng_, false), false);
    if (slot == "PHONE") return phi(PhiType::kPhone, Phone(rng_), true);
    if (slot == "EMAIL") return phi(PhiType::kEmail, Email(rng_, p), false);
    if (slot == "SSN") return phi(PhiType::kSsn, Ssn(rng_), true);
    if (slot == "MRN") {
      std::string mrn = p.mrn;
      const std::size_t style = rng_.Below(7);
      if (style == 0) mrn = mrn.substr(0, 4) + "-" + mrn.substr(4);
      if (style == 1) mrn = mrn.substr(0, 4) + " " + mrn.substr(4);
      return phi(PhiType::kMrn, mrn, true);
    }
    if (slot == "MBI") return phi(PhiType::kHealthPlan, Mbi(rng_), false);
    if (slot == "MEMBER") return phi(PhiType::kHealthPlan, Member(rng_), false);
    if (slot == "ACCOUNT") return phi(PhiType::kAccount, Account(rng_), true);
    if (slot == "CARD") return phi(PhiType::kCard, Card(rng_), true);
    if (slot == "DEA") return phi(PhiType::kLicense, Dea(rng_, p.last[0]), false);
    if (slot == "LICENSE") return phi(PhiType::kLicense, License(rng_), true);
    if (slot == "NPI") return phi(PhiType::kNpi, Npi(rng_), true);
    if (slot == "VIN") return phi(PhiType::kVehicle, Vin(rng_), false);
    if (slot == "PLATE") return phi(PhiType::kVehicle, Plate(rng_), false);
    if (slot == "IMEI") return phi(PhiType::kDevice, Imei(rng_), true);
    if (slot == "MAC") return phi(PhiType::kDevice, Mac(rng_), false);
    if (slot == "SERIAL") return phi(PhiType::kDevice, Serial(rng_), false);
    if (slot == "URL") return phi(PhiType::kUrl, Url(rng_, p, p.mrn), false);
    if (slot == "IP") return phi(PhiType::kIp, Ip(rng_), false);
    if (slot == "IPV6") return phi(PhiType::kIp, Ipv6(rng_), false);
    if (slot == "ZIP") return phi(PhiType::kZip, Zip(rng_), true);
    if (slot == "STREET") return phi(PhiType::kAddress, Street(rng_), false);
    if (slot == "CITY") return phi(PhiType::kAddress, rng_.Pick(Cities()), false);
    if (slot == "AGE90") return phi(PhiType::kAge, std::to_string(rng_.Between(90, 104)), false);
    if (slot == "KINNAME") return phi(PhiType::kName, p.first + " " + rng_.Pick(CommonSurnames()), false);
    if (slot == "SSNLAST4" || slot == "SSNMASKED") {
      const std::string last4 = Digits(rng_, 4);
      if (slot == "SSNLAST4") return phi(PhiType::kSsn, last4, false);
      static const std::array<const char*, 5> kMasks = {"xxx-xx-", "XXX-XX-", "***-**-", "###-##-", "xxx xx "};
      return phi(PhiType::kSsn, kMasks[rng_.Below(kMasks.size())] + last4, false);
    }
    if (slot == "BIRTHYEAR90") return phi(PhiType::kDate, std::to_string(rng_.Between(1915, 1934)), false);
    if (slot == "AGE90WORDS") {
      static const std::array<const char*, 10> kUnits = {"", "one", "two", "three", "four",
                                                         "five", "six", "seven", "eight", "nine"};
      const int age = static_cast<int>(rng_.Between(90, 104));
      if (age < 100) {
        std::string words = "ninety";
        if (age > 90) words += std::string(rng_.Chance(0.5) ? "-" : " ") + kUnits[age - 90];
        return phi(PhiType::kAge, words, false);
      }
      // "one hundred and two", or "a hundred and two" with the article outside the age
      const bool article = rng_.Chance(0.5);
      if (article) text("a ");
      std::string words = article ? "hundred" : "one hundred";
      if (age > 100) words += std::string(" and ") + kUnits[age - 100];
      return phi(PhiType::kAge, words, false);
    }
    if (slot == "AGESHORT") {
      phi(PhiType::kAge, std::to_string(rng_.Between(90, 104)), false);
      return text(rng_.Pick(AgeSuffixes()));
    }
    if (slot == "PHONEINTL") return phi(PhiType::kPhone, PhoneInternational(rng_), false);
    if (slot == "EMAILSPELLED") return phi(PhiType::kEmail, EmailSpelled(rng_, Email(rng_, p)), false);
    if (slot == "MACGROUPED") return phi(PhiType::kDevice, MacGrouped(rng_), false);
    if (slot == "DOBCOMPACT") return phi(PhiType::kDate, DobCompact(rng_), false);
    if (slot == "PHONEWORDS") return phi(PhiType::kPhone, PhoneWords(rng_), false);
    if (slot == "MBISPACED") return phi(PhiType::kHealthPlan, MbiSpaced(rng_), false);
    if (slot == "POBOX") return phi(PhiType::kAddress, PoBox(rng_), false);
    if (slot == "DATETIME") {
      // A date and time as systems print them: the date is PHI, the time of day is not.
      phi(PhiType::kDate,
          std::to_string(rng_.Between(2015, 2026)) + "-" + Pad(rng_.Between(1, 12), 2) + "-" + Pad(rng_.Between(1, 28), 2),
          false);
      std::string time = "T" + Pad(rng_.Between(0, 23), 2) + ":" + Pad(rng_.Between(0, 59), 2);
      if (rng_.Chance(0.5)) time += ":" + Pad(rng_.Between(0, 59), 2);
      if (rng_.Chance(0.3)) time += "Z";
      return text(time);
    }
    // Not PHI.
    if (slot == "STATE") return text(rng_.Pick(States()));
    if (slot == "STAFFLAST") return text(rng_.Pick(CommonSurnames()));
    if (slot == "FIRST") return text(rng_.Pick(FirstNames()));
    if (slot == "DRUG") return text(rng_.Pick(Drugs()));
    if (slot == "DOSE") return text(Dose(rng_));
    if (slot == "VITALS") return text(Vitals(rng_));
    if (slot == "LAB") return text(Lab(rng_));
    if (slot == "ICD") return text(Icd(rng_));
    if (slot == "YEAR") return text(std::to_string(rng_.Between(1950, 2026)));
    if (slot == "AGE") return text(std::to_string(rng_.Between(18, 89)));
    if (slot == "TIME") return text(Time(rng_));
    if (slot == "ROOM") return text(Room(rng_));
    if (slot == "ORDER") return text(Order(rng_));
    if (slot == "SCORE") return text(Score(rng_));
    if (slot == "NDC") return text(Pad(rng_.Between(1, 99999), 5) + "-" + Pad(rng_.Between(1, 999), 3) + "-" + Pad(rng_.Between(1, 99), 2));
    if (slot == "LOT") return text(std::to_string(rng_.Between(1, 9)) + "F" + std::to_string(rng_.Between(10, 99)) + "K");
    if (slot == "CPT") return text(std::to_string(rng_.Between(10000, 99499)));
    if (slot == "GLUCOSE") return text(std::to_string(rng_.Between(60, 420)));
    if (slot == "PAIN") return text(std::to_string(rng_.Between(0, 10)) + "/10");
    if (slot == "POLICYDATE") return text(std::to_string(rng_.Between(1, 12)) + "/" + std::to_string(rng_.Between(1, 28)) + "/" + std::to_string(rng_.Between(2024, 2026)));
    text("{" + slot + "}");
  }

  LabelledMessage Make(int id, const Template& t, const Corpus& corpus) {
    LabelledMessage msg;
    msg.template_id = id;
    msg.genre = t.genre;
    msg.kind = t.kind;
    msg.held_out = id % 2 == 1;
    static constexpr std::array<Perturbation, 20> kMix = {
        Perturbation::kNone,        Perturbation::kNone,         Perturbation::kNone,
        Perturbation::kNone,        Perturbation::kNone,         Perturbation::kNone,
        Perturbation::kNone,        Perturbation::kLowerCase,    Perturbation::kLowerCase,
        Perturbation::kLowerCase,   Perturbation::kTypos,        Perturbation::kTypos,
        Perturbation::kSplitDigits, Perturbation::kSplitDigits,  Perturbation::kSpacedDigits,
        Perturbation::kFullWidth,   Perturbation::kZeroWidth,    Perturbation::kNoPunctuation,
        Perturbation::kNoPunctuation, Perturbation::kLowerCase};
    msg.perturbation = kMix[rng_.Below(kMix.size())];

    const PatientRecord& patient = corpus.patients[rng_.Below(corpus.patients.size())];
    std::vector<Piece> pieces;
    const std::string_view text = t.text;
    std::size_t pos = 0;
    while (pos < text.size()) {
      const std::size_t open = text.find('{', pos);
      if (open == std::string_view::npos) {
        pieces.push_back({std::string(text.substr(pos)), false, false, std::nullopt});
        break;
      }
      if (open > pos) pieces.push_back({std::string(text.substr(pos, open - pos)), false, false, std::nullopt});
      const std::size_t close = text.find('}', open);
      Expand(std::string(text.substr(open + 1, close - open - 1)), patient, pieces);
      pos = close + 1;
    }
    for (Piece& piece : pieces) {
      switch (msg.perturbation) {
        case Perturbation::kTypos:
          if (!piece.slot) piece.text = Typos(rng_, piece.text);
          // Half the whole names typed with a slip too; their own generator, so that the rest
          // of the corpus is what it was before names had slips.
          if (piece.slot && piece.type == PhiType::kName &&
              piece.text.find(' ') != std::string::npos && slip_rng_.Chance(0.5)) {
            piece.text = NameSlip(slip_rng_, piece.text);
          }
          break;
        case Perturbation::kNoPunctuation:
          if (!piece.slot) piece.text = NoPunctuation(piece.text);
          break;
        case Perturbation::kSplitDigits:
          if (piece.slot && piece.numeric) piece.text = SplitDigits(rng_, piece.text);
          break;
        case Perturbation::kSpacedDigits:
          if (piece.slot && piece.numeric) piece.text = SpaceDigits(piece.text);
          break;
        case Perturbation::kFullWidth:
          if (piece.slot && piece.numeric) piece.text = FullWidth(piece.text);
          break;
        case Perturbation::kZeroWidth:
          if (piece.slot) piece.text = ZeroWidth(rng_, piece.text);
          break;
        default:
          break;
      }
    }
    for (const Piece& piece : pieces) {
      const std::size_t begin = msg.text.size();
      msg.text += piece.text;
      if (piece.type) msg.gold.push_back({*piece.type, begin, msg.text.size()});
    }
    if (msg.perturbation == Perturbation::kLowerCase) msg.text = ToLowerAscii(msg.text);
    return msg;
  }

  Rng rng_;
  Rng slip_rng_;  // NameSlip's
  CorpusOptions options_;
};

}  // namespace

Corpus GenerateCorpus(const CorpusOptions& options) { return Generator(options).Run(); }

}  // namespace rounds::governance::phi
