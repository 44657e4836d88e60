// Demo data: a believable hospital with departments, staff, communities that cross departments,
// channels, direct messages and a few hundred messages of every post kind. No patient
// identifiers anywhere. Deterministic and idempotent: people are keyed by username, spaces by
// name, messages by client_id, and votes, reactions, pins and accepted answers are set only when
// not already so — running it again, even after an interrupted run, adds nothing twice.
#include <array>
#include <random>

#include "app/internal.hpp"
#include "core/log.hpp"

namespace rounds::app {

using namespace rounds::domain;

namespace {

constexpr const char* kDemoPassword = "rounds-demo-2026";

struct DemoPerson {
  const char* username;
  const char* name;
  const char* role;
  const char* department;
};

// Fictional people: first and last names from different common-name lists, paired so that no
// combination names a well-known person.
constexpr DemoPerson kPeople[] = {
    {"amara.okafor", "Amara Okafor", "Charge Nurse", "Emergency"},
    {"ben.hartley", "Ben Hartley", "Emergency Physician", "Emergency"},
    {"carmen.diaz", "Carmen Diaz", "Registered Nurse", "Emergency"},
    {"dev.lindahl", "Dev Lindahl", "Paramedic Liaison", "Emergency"},
    {"elena.novak", "Elena Novak", "Registered Nurse", "Emergency"},
    {"farid.haddad", "Farid Haddad", "Cardiologist", "Cardiology"},
    {"grace.lindqvist", "Grace Lindqvist", "Cardiac Nurse Specialist", "Cardiology"},
    {"hiro.tanaka", "Hiro Tanaka", "Echocardiographer", "Cardiology"},
    {"isla.murray", "Isla Murray", "Cath Lab Nurse", "Cardiology"},
    {"jonas.weber", "Jonas Weber", "Cardiology Fellow", "Cardiology"},
    {"kemi.adeyemi", "Kemi Adeyemi", "Oncologist", "Oncology"},
    {"liam.oconnor", "Liam O'Connor", "Oncology Nurse", "Oncology"},
    {"maya.cohen", "Maya Cohen", "Oncology Pharmacist", "Oncology"},
    {"nikhil.rao", "Nikhil Rao", "Radiation Therapist", "Oncology"},
    {"olivia.grant", "Olivia Grant", "Nurse Navigator", "Oncology"},
    {"priya.shah", "Priya Shah", "Nurse Educator", "Nursing"},
    {"quinn.foster", "Quinn Foster", "Director of Nursing", "Nursing"},
    {"rosa.mendes", "Rosa Mendes", "New Graduate Nurse", "Nursing"},
    {"sam.whitaker", "Sam Whitaker", "New Graduate Nurse", "Nursing"},
    {"tara.nguyen", "Tara Nguyen", "Night Nurse Manager", "Nursing"},
    {"umar.siddiqui", "Umar Siddiqui", "Clinical Pharmacist", "Pharmacy"},
    {"vera.kowalski", "Vera Kowalski", "Pharmacy Technician", "Pharmacy"},
    {"will.chen", "Will Chen", "Antimicrobial Stewardship Pharmacist", "Pharmacy"},
    {"xena.papadopoulos", "Xena Papadopoulos", "Pharmacy Manager", "Pharmacy"},
    {"yusuf.demir", "Yusuf Demir", "Systems Engineer", "IT"},
    {"zoe.marshall", "Zoe Marshall", "Service Desk Analyst", "IT"},
    {"aaron.blake", "Aaron Blake", "Clinical Informatics Lead", "IT"},
    {"bella.santos", "Bella Santos", "Security Analyst", "IT"},
    {"caleb.owens", "Caleb Owens", "Communications Manager", "Communications"},
    {"dana.ivanova", "Dana Ivanova", "Patient Experience Lead", "Communications"},
    {"eli.brooks", "Eli Brooks", "Web Editor", "Communications"},
    {"fatima.brennan", "Fatima Brennan", "Radiologist", "Radiology"},
    {"gabe.morales", "Gabe Morales", "CT Technologist", "Radiology"},
    {"hana.kim", "Hana Kim", "MRI Technologist", "Radiology"},
    {"ian.fletcher", "Ian Fletcher", "Quality Improvement Advisor", "Quality & Safety"},
    {"jade.wu", "Jade Wu", "Patient Safety Officer", "Quality & Safety"},
    {"kofi.mensah", "Kofi Mensah", "Infection Prevention Nurse", "Quality & Safety"},
    {"lena.fischer", "Lena Fischer", "Respiratory Therapist", "Critical Care"},
    {"marco.havel", "Marco Havel", "Intensivist", "Critical Care"},
    {"nora.lund", "Nora Lund", "ICU Nurse", "Critical Care"},
    {"oscar.reyes", "Oscar Reyes", "ICU Nurse", "Critical Care"},
    {"paula.costa", "Paula Costa", "Bed Manager", "Patient Flow"},
    {"rafael.silva", "Rafael Silva", "Discharge Coordinator", "Patient Flow"},
    {"sofia.andersen", "Sofia Andersen", "Social Worker", "Patient Flow"},
    {"theo.jansen", "Theo Jansen", "Physiotherapist", "Therapies"},
    {"uma.krishnan", "Uma Krishnan", "Occupational Therapist", "Therapies"},
    {"victor.dubois", "Victor Dubois", "Hospitalist", "Medicine"},
    {"wendy.park", "Wendy Park", "Ward Clerk", "Medicine"},
    {"yara.haddad", "Yara Haddad", "Medical Registrar", "Medicine"},
    {"zack.turner", "Zack Turner", "Porter Supervisor", "Patient Flow"},
};

struct DemoSpace {
  const char* name;
  SpaceKind kind;
  const char* topic;
  Visibility visibility;
  std::array<const char*, 6> departments;  // members come from these departments
};

constexpr DemoSpace kSpaces[] = {
    {"Sepsis Quality Improvement", SpaceKind::kCommunity,
     "Cutting time to antibiotics: bundles, audits and what works on each ward.", Visibility::kPublic,
     {"Emergency", "Critical Care", "Quality & Safety", "Pharmacy", "Medicine", nullptr}},
    {"New Nurses Network", SpaceKind::kCommunity,
     "Questions, tips and support for nurses in their first two years.", Visibility::kPublic,
     {"Nursing", "Emergency", "Critical Care", "Oncology", "Cardiology", nullptr}},
    {"Ideas for Patient Flow", SpaceKind::kCommunity,
     "Small changes that get patients home sooner. Vote for the ones worth trying.", Visibility::kPublic,
     {"Patient Flow", "Medicine", "Emergency", "Therapies", "Nursing", nullptr}},
    {"Pharmacy Q&A", SpaceKind::kCommunity, "Ask the pharmacists: dosing, interactions, shortages.",
     Visibility::kPublic, {"Pharmacy", "Nursing", "Medicine", "Oncology", "Critical Care", nullptr}},
    {"Hospital Announcements", SpaceKind::kCommunity, "News for everyone from the leadership team.",
     Visibility::kPublic, {"Communications", "Nursing", "IT", "Quality & Safety", "Medicine", "Emergency"}},
    {"ed-charge-nurses", SpaceKind::kChannel, "Shift hand-over and bed status for ED charge nurses.",
     Visibility::kPrivate, {"Emergency", nullptr, nullptr, nullptr, nullptr, nullptr}},
    {"it-helpdesk", SpaceKind::kChannel, "Ask IT: accounts, devices, printers, the EHR.", Visibility::kPublic,
     {"IT", "Nursing", "Medicine", "Patient Flow", nullptr, nullptr}},
    {"cardiology-team", SpaceKind::kChannel, "Day-to-day coordination for the cardiology service.",
     Visibility::kPrivate, {"Cardiology", nullptr, nullptr, nullptr, nullptr, nullptr}},
    {"radiology-reads", SpaceKind::kChannel, "Turnaround times and protocol questions.", Visibility::kPublic,
     {"Radiology", "Emergency", "Medicine", nullptr, nullptr, nullptr}},
};

constexpr const char* kChatLines[] = {
    "Morning all, huddle in five minutes.",
    "Bay 4 is cleaned and ready.",
    "Can someone cover my break at 14:30?",
    "The new infusion pumps arrive on Thursday; training sessions are on the intranet.",
    "Thanks for the help earlier, much appreciated.",
    "Printer on level 3 is jammed again, ticket raised.",
    "Reminder: hand hygiene audit this week.",
    "Is the discharge lounge open this weekend?",
    "Great teamwork on the night shift, everyone.",
    "Pharmacy says the shortage list is updated.",
    "Who has the spare **bladder scanner**?",
    "Heads up: lift B is out of service until noon.",
    "Sim training moved to room 2.14.",
    "Can we swap the Tuesday and Wednesday rotas?",
    "Bed meeting at 11:00, please send numbers before then.",
};

constexpr const char* kQuestions[] = {
    "What is our current target for time to first antibiotic dose?",
    "How do I escalate a deteriorating patient out of hours?",
    "Which line do we use for vancomycin levels?",
    "Where do I find the latest sepsis screening tool?",
    "Is there a checklist for safe transfers to CT?",
    "How do I request access to the bed management board?",
};

constexpr const char* kAnswers[] = {
    "Within one hour of recognition; the dashboard shows each ward's median.",
    "Call the outreach team first, then the on-call registrar; it is all in the escalation policy.",
    "Any line that is not being used for the infusion, drawn just before the next dose.",
    "It is pinned in this community and linked from the intranet home page.",
    "Yes, the transfer checklist is on every resus trolley and in the policy library.",
    "Ask your manager to approve it in the access portal; IT turns it on within a day.",
};

constexpr const char* kIdeas[] = {
    "Start discharge planning at the morning huddle, not after the ward round",
    "A shared whiteboard of expected discharges per ward",
    "Pharmacy to prepare take-home medicines the evening before",
    "Open the discharge lounge at 08:00 instead of 10:00",
    "Text porters directly from the bed board",
    "Weekend therapy cover for patients waiting for a mobility assessment",
};

constexpr const char* kDiscussions[] = {
    "Our ward cut door-to-needle time by a third — here is what we changed",
    "Lessons from last month's sepsis audit",
    "How do you keep the handover short but complete?",
    "Sharing the new quick-reference card for the early warning score",
    "What helped you most in your first month on the ward?",
};

}  // namespace

Result<std::vector<std::pair<std::string, std::string>>> SeedDemo(Services& services, store::Store& store) {
  Actor system = Actor::System();
  std::vector<std::pair<std::string, std::string>> accounts;

  // Departments and people (existing ones are kept as they are).
  std::map<std::string, DepartmentId> departments;
  for (const auto& person : kPeople) departments.emplace(person.department, 0);
  for (auto& [department_name, id] : departments) {
    const std::string& name = department_name;  // captured below, which clang 14 refuses for a binding
    ROUNDS_ASSIGN_OR_RETURN(auto found, store.Read([&](store::ReadTx& tx) { return tx.FindDepartmentByName(name); }));
    if (found) {
      id = found->id;
    } else {
      ROUNDS_ASSIGN_OR_RETURN(Department created, services.directory.CreateDepartment(system, name, std::nullopt));
      id = created.id;
    }
  }
  std::map<std::string, User> users;
  auto ensure_user = [&](const std::string& username, const std::string& name, const std::string& role,
                         std::optional<DepartmentId> dept, bool admin, bool compliance) -> Status {
    ROUNDS_ASSIGN_OR_RETURN(auto found, store.Read([&](store::ReadTx& tx) { return tx.FindUserByUsername(username); }));
    if (found) {
      users[username] = *found;
      return Ok();
    }
    NewUser u;
    u.username = username;
    u.display_name = name;
    u.email = username + "@rounds-demo.example";
    u.job_role = role;
    if (dept) u.department_ids = {*dept};
    u.password = kDemoPassword;
    u.is_admin = admin;
    u.is_compliance = compliance;
    u.fast_hash = true;
    ROUNDS_ASSIGN_OR_RETURN(users[username], services.directory.CreateUser(system, u));
    return Ok();
  };
  ROUNDS_RETURN_IF_ERROR(ensure_user("admin", "Rounds Administrator", "Administrator", departments["IT"], true, false));
  ROUNDS_RETURN_IF_ERROR(ensure_user("compliance", "Privacy Officer", "Compliance Officer", std::nullopt, false, true));
  for (const auto& p : kPeople) {
    ROUNDS_RETURN_IF_ERROR(ensure_user(p.username, p.name, p.role, departments[p.department], false, false));
  }
  accounts = {{"admin", kDemoPassword}, {"compliance", kDemoPassword}, {"amara.okafor", kDemoPassword},
              {"priya.shah", kDemoPassword}, {"umar.siddiqui", kDemoPassword}, {"rosa.mendes", kDemoPassword}};

  auto actor_for = [&](const std::string& username) {
    Actor a;
    a.user = users.at(username);
    return a;
  };

  // Spaces are recognised by name. When every space exists and the last direct conversation has
  // all its messages, an earlier run finished and there is nothing to do.
  auto find_space = [&](const std::string& name) -> Result<std::optional<Space>> {
    ROUNDS_ASSIGN_OR_RETURN(auto found, store.Read([&](store::ReadTx& tx) {
      return tx.ListSpaces({.text = name, .public_only = false, .include_archived = true, .limit = 50});
    }));
    for (const auto& space : found) {
      if (space.name == name && space.kind != SpaceKind::kDirect) return std::optional<Space>(space);
    }
    return std::optional<Space>();
  };
  const std::array<std::pair<const char*, const char*>, 4> pairs = {{{"amara.okafor", "ben.hartley"},
                                                                     {"priya.shah", "rosa.mendes"},
                                                                     {"umar.siddiqui", "kemi.adeyemi"},
                                                                     {"paula.costa", "rafael.silva"}}};
  constexpr int kDirectMessages = 6;
  auto dm_client_id = [](std::size_t pair, int i) { return "demo:dm" + std::to_string(pair) + ":" + std::to_string(i); };
  {
    bool complete = true;
    for (const auto& spec : kSpaces) {
      ROUNDS_ASSIGN_OR_RETURN(auto space, find_space(spec.name));
      complete = complete && space.has_value();
    }
    if (complete) {
      const char* a = pairs.back().first;  // not a structured binding: the lambda below captures it
      const char* b = pairs.back().second;
      ROUNDS_ASSIGN_OR_RETURN(bool last_dm, store.Read([&](store::ReadTx& tx) -> Result<bool> {
        ROUNDS_ASSIGN_OR_RETURN(auto dm, tx.FindDirectSpace(DirectKey({users.at(a).id, users.at(b).id})));
        // Two member.joined events, then the messages: seeding posts them last.
        return dm.has_value() && dm->last_seq >= 2 + kDirectMessages;
      }));
      if (last_dm) return accounts;
    }
  }

  auto ignore_value = [](auto&&) {};
  int posted = 0;
  for (std::size_t space_index = 0; space_index < std::size(kSpaces); ++space_index) {
    const DemoSpace& spec = kSpaces[space_index];
    // Each space draws from its own generator, so its content is the same on every run.
    std::mt19937 rng(2026 + static_cast<unsigned>(space_index));
    int client_counter = 0;
    auto post = [&](const std::string& author, SpaceId space, Draft draft) -> Result<json> {
      draft.client_id = "demo:" + std::to_string(space_index) + ":" + std::to_string(++client_counter);
      ROUNDS_ASSIGN_OR_RETURN(PostResult r, services.messages.Post(actor_for(author), space, draft));
      posted += r.created;
      return r.Message();
    };
    std::vector<std::string> members;
    for (const auto& p : kPeople) {
      for (const char* d : spec.departments) {
        if (d != nullptr && std::string(d) == p.department) members.push_back(p.username);
      }
    }
    const std::string owner = members.front();
    ROUNDS_ASSIGN_OR_RETURN(auto existing, find_space(spec.name));
    SpaceId id = 0;
    if (existing) {
      id = existing->id;
    } else {
      NewSpace ns{spec.kind, spec.name, spec.topic, spec.visibility,
                  spec.visibility == Visibility::kPublic ? JoinPolicy::kOpen : JoinPolicy::kInvite};
      ROUNDS_ASSIGN_OR_RETURN(json created, services.spaces.Create(actor_for(owner), ns));
      id = created["id"];
    }
    auto add = [&](const std::string& username, MemberRole role) -> Status {
      auto added = services.spaces.AddMember(actor_for(owner), id, users[username].id, role);
      if (!added && added.error().problem != "already_member") return tl::unexpected(added.error());
      return Ok();
    };
    for (std::size_t i = 1; i < members.size(); ++i) {
      ROUNDS_RETURN_IF_ERROR(add(members[i], i == 1 ? MemberRole::kModerator : MemberRole::kMember));
    }
    ROUNDS_RETURN_IF_ERROR(add("admin", MemberRole::kMember));
    auto pick = [&]() -> const std::string& { return members[rng() % members.size()]; };

    if (spec.kind == SpaceKind::kChannel) {
      for (int i = 0; i < 40; ++i) {
        Draft d;
        d.body = kChatLines[rng() % std::size(kChatLines)];
        if (i % 9 == 4) d.body = "@" + pick() + " " + d.body;
        const std::string& author = pick();
        ROUNDS_ASSIGN_OR_RETURN(json m, post(author, id, d));
        if (i % 7 == 3) {
          Draft reply;
          reply.body = "Done, thanks!";
          reply.parent_id = m["id"].get<MessageId>();
          ROUNDS_RETURN_IF_ERROR(post(pick(), id, reply).map(ignore_value));
        }
        if (i % 5 == 0) {
          ROUNDS_RETURN_IF_ERROR(services.messages.React(actor_for(pick()), m["id"], "👍", true).map(ignore_value));
        }
      }
      continue;
    }
    if (std::string(spec.name) == "Hospital Announcements") {
      for (const char* text : {"The new staff car park opens on Monday. Permits are on the intranet.",
                               "Flu vaccination clinics run all next week in the atrium, 07:00 to 19:00.",
                               "Rounds is live! Use it for communities and channels — never patient details outside clinical spaces."}) {
        Draft d;
        d.kind = MessageKind::kAnnouncement;
        d.title = "Announcement";
        d.body = text;
        ROUNDS_ASSIGN_OR_RETURN(json m, post(owner, id, d));
        ROUNDS_RETURN_IF_ERROR(services.messages.React(actor_for(pick()), m["id"], "🎉", true).map(ignore_value));
      }
      continue;
    }
    // Communities: discussions with comments, questions with accepted answers, ideas with votes, a poll.
    for (std::size_t i = 0; i < std::size(kDiscussions); ++i) {
      Draft d;
      d.kind = MessageKind::kDiscussion;
      d.title = kDiscussions[i];
      d.body = "Sharing this so other wards can try it. *Comments and questions welcome.*";
      const std::string& author = pick();
      ROUNDS_ASSIGN_OR_RETURN(json m, post(author, id, d));
      for (int c = 0; c < 3; ++c) {
        Draft comment;
        comment.body = kChatLines[rng() % std::size(kChatLines)];
        if (c == 2) comment.body = "@" + pick() + " " + comment.body;
        comment.parent_id = m["id"].get<MessageId>();
        ROUNDS_RETURN_IF_ERROR(post(pick(), id, comment).map(ignore_value));
      }
    }
    for (std::size_t i = 0; i < std::size(kQuestions); ++i) {
      std::string asker = pick();
      Draft q;
      q.kind = MessageKind::kQuestion;
      q.title = kQuestions[i];
      q.body = "Asking for the team — thanks in advance.";
      ROUNDS_ASSIGN_OR_RETURN(json question, post(asker, id, q));
      Draft a;
      a.body = kAnswers[i];
      a.parent_id = question["id"].get<MessageId>();
      ROUNDS_ASSIGN_OR_RETURN(json answer, post(pick(), id, a));
      if (i % 2 == 0 && question["accepted_answer_id"].is_null()) {
        ROUNDS_RETURN_IF_ERROR(services.messages.Accept(actor_for(asker), answer["id"], true).map(ignore_value));
      }
    }
    for (std::size_t i = 0; i < std::size(kIdeas); ++i) {
      Draft idea;
      idea.kind = MessageKind::kIdea;
      idea.title = kIdeas[i];
      idea.body = "Would this work on your ward? Vote if you would try it.";
      const std::string& author = pick();
      ROUNDS_ASSIGN_OR_RETURN(json m, post(author, id, idea));
      for (std::size_t v = 0; v < (i * 3) % members.size(); ++v) {
        ROUNDS_RETURN_IF_ERROR(services.messages.Vote(actor_for(members[v]), m["id"], true).map(ignore_value));
      }
    }
    Draft poll;
    poll.kind = MessageKind::kPoll;
    poll.title = "Best time for the monthly forum?";
    poll.body = "One vote each; results update live.";
    poll.poll_options = {"Tuesday 08:00", "Wednesday 12:30", "Thursday 16:00"};
    ROUNDS_ASSIGN_OR_RETURN(json p, post(owner, id, poll));
    for (std::size_t v = 0; v < members.size(); ++v) {
      ROUNDS_RETURN_IF_ERROR(services.messages.PollVote(actor_for(members[v]), p["id"], static_cast<int>(v % 3)).map(ignore_value));
    }
    if (!p["pinned"].get<bool>()) {
      ROUNDS_RETURN_IF_ERROR(services.messages.Pin(actor_for(owner), p["id"], true).map(ignore_value));
    }
  }

  // A few direct conversations (find-or-create), each message keyed by its client_id.
  std::mt19937 rng(2026 + 100);
  for (std::size_t pair = 0; pair < pairs.size(); ++pair) {
    const auto& [a, b] = pairs[pair];
    ROUNDS_ASSIGN_OR_RETURN(json dm, services.spaces.Direct(actor_for(a), {users[b].id}));
    SpaceId id = dm["id"];
    for (int i = 0; i < kDirectMessages; ++i) {
      Draft d;
      d.body = kChatLines[rng() % std::size(kChatLines)];
      d.client_id = dm_client_id(pair, i);
      ROUNDS_ASSIGN_OR_RETURN(PostResult r, services.messages.Post(actor_for(i % 2 == 0 ? a : b), id, d));
      posted += r.created;
    }
  }
  log::Info("demo_seeded", {{"users", users.size()}, {"messages_added", posted}});
  return accounts;
}

}  // namespace rounds::app
