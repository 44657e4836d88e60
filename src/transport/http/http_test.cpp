#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "transport/http/http_types.hpp"
#include "transport/http/router.hpp"
#include "transport/http/static_files.hpp"

namespace rounds::transport {
namespace {

TEST(Router, MatchesPatternsAndFillsParameters) {
  Router router;
  router.Add("GET", "/api/v1/spaces/{id}/messages", [](Request&) { return Response::Json(200, {{"route", 1}}); });
  router.Add("POST", "/api/v1/spaces/{id}/messages", [](Request&) { return Response::Json(201, {}); });
  Request request;
  request.method = "GET";
  request.path = "/api/v1/spaces/42/messages";
  Match match = router.Find(request);
  ASSERT_NE(match.route, nullptr);
  EXPECT_EQ(request.params.at("id"), "42");
  request.method = "DELETE";
  match = router.Find(request);
  EXPECT_EQ(match.route, nullptr);
  EXPECT_EQ(match.allowed_methods, (std::vector<std::string>{"GET", "POST"}));
  request.path = "/api/v1/spaces//messages";
  request.method = "GET";
  EXPECT_EQ(router.Find(request).route, nullptr);
  request.path = "/api/v1/spaces/42/messages/extra";
  EXPECT_EQ(router.Find(request).route, nullptr);
}

// A quick handler belongs to the route added just before it, and to no other.
TEST(Router, AQuickHandlerBelongsToTheRouteAddedLast) {
  Router router;
  router.Add("GET", "/api/v1/spaces/{id}/messages", [](Request&) { return Response::Json(200, {}); });
  router.Quick([](Request& request) -> std::optional<Response> {
    if (request.params.at("id") != "7") return std::nullopt;
    return Response::Json(200, {{"quick", true}});
  });
  router.Add("POST", "/api/v1/spaces/{id}/messages", [](Request&) { return Response::Json(201, {}); });
  Request request;
  request.method = "GET";
  request.path = "/api/v1/spaces/7/messages";
  Match match = router.Find(request);
  ASSERT_NE(match.route, nullptr);
  ASSERT_TRUE(match.route->quick);
  auto answer = match.route->quick(request);
  ASSERT_TRUE(answer);
  EXPECT_EQ(answer->status, 200);
  request.path = "/api/v1/spaces/8/messages";
  match = router.Find(request);
  EXPECT_FALSE(match.route->quick(request)) << "declined: the pool's handler answers";
  request.method = "POST";
  match = router.Find(request);
  ASSERT_NE(match.route, nullptr);
  EXPECT_FALSE(match.route->quick);
}

// A check before the body belongs to the route added just before it: the upload route has one,
// the routes around it do not.
TEST(Router, ACheckBeforeTheBodyBelongsToTheRouteAddedLast) {
  Router router;
  router.Add("GET", "/api/v1/spaces/{id}/attachments", [](Request&) { return Response::Json(200, {}); });
  router.Add("POST", "/api/v1/spaces/{id}/attachments", [](Request&) { return Response::Json(201, {}); });
  router.CheckBeforeBody([](Request& request) -> std::optional<Response> {
    if (request.Header("authorization").empty()) return Response::Json(401, {{"code", "unauthenticated"}});
    return std::nullopt;
  });
  router.Add("DELETE", "/api/v1/attachments/{id}", [](Request&) { return Response::Json(204, {}); });
  Request request;
  request.method = "POST";
  request.path = "/api/v1/spaces/3/attachments";
  Match match = router.Find(request);
  ASSERT_NE(match.route, nullptr);
  ASSERT_TRUE(match.route->check_before_body);
  auto refusal = match.route->check_before_body(request);
  ASSERT_TRUE(refusal);
  EXPECT_EQ(refusal->status, 401);
  request.headers["authorization"] = "Bearer t";
  EXPECT_FALSE(match.route->check_before_body(request)) << "passed: the body is read";
  request.method = "GET";
  EXPECT_FALSE(router.Find(request).route->check_before_body);
  request.method = "DELETE";
  request.path = "/api/v1/attachments/3";
  EXPECT_FALSE(router.Find(request).route->check_before_body);
}

// Paths are matched segment by segment without copies; a path longer than the usual few segments
// matches as well as a short one, and a parameter gets the whole segment.
TEST(Router, MatchesLongPathsAndTrailingParameters) {
  Router router;
  router.Add("GET", "/a/b/c/d/e/f/g/h/i/j/k/l/m/{last}", [](Request&) { return Response::Json(200, {}); });
  router.Add("GET", "/files/{name}", [](Request&) { return Response::Json(200, {}); });
  Request request;
  request.method = "GET";
  request.path = "/a/b/c/d/e/f/g/h/i/j/k/l/m/fourteenth";
  ASSERT_NE(router.Find(request).route, nullptr);
  EXPECT_EQ(request.params.at("last"), "fourteenth");
  request.path = "/a/b/c/d/e/f/g/h/i/j/k/l/x/fourteenth";
  EXPECT_EQ(router.Find(request).route, nullptr);
  request.path = "/a/b/c/d/e/f/g/h/i/j/k/l/m/n/o";
  EXPECT_EQ(router.Find(request).route, nullptr);
  request.path = "/files/transcript.txt";
  ASSERT_NE(router.Find(request).route, nullptr);
  EXPECT_EQ(request.params.at("name"), "transcript.txt");
  request.path = "/files/";
  EXPECT_EQ(router.Find(request).route, nullptr);
}

TEST(Targets, DecodeAndRejectMalformedOrNul) {
  std::string path;
  std::map<std::string, std::string> query;
  ASSERT_TRUE(ParseTarget("/api/v1/search?q=sepsis+bundle&limit=5", path, query));
  EXPECT_EQ(path, "/api/v1/search");
  EXPECT_EQ(query.at("q"), "sepsis bundle");
  EXPECT_EQ(query.at("limit"), "5");
  ASSERT_TRUE(ParseTarget("/a%20b", path, query));
  EXPECT_EQ(path, "/a b");
  EXPECT_FALSE(ParseTarget("/a%zz", path, query));
  EXPECT_FALSE(ParseTarget("/a%00b", path, query));
  EXPECT_FALSE(ParseTarget("/a%2", path, query));
  EXPECT_FALSE(ParseTarget("relative", path, query));
  // Decoded text must be UTF-8: the app layer echoes parameters into JSON (audit details).
  ASSERT_TRUE(ParseTarget("/api/v1/search?q=caf%C3%A9", path, query));
  EXPECT_EQ(query.at("q"), "caf\xc3\xa9");
  EXPECT_FALSE(ParseTarget("/api/v1/audit?action=%FF", path, query));
  EXPECT_FALSE(ParseTarget("/api/v1/audit?object_id=caf%C3", path, query));
  EXPECT_FALSE(ParseTarget("/api/v1/audit?%C3%28=1", path, query));
  EXPECT_FALSE(ParseTarget("/files/%E2%80", path, query));
}

TEST(StaticFiles, RefuseTraversalAndHiddenFiles) {
  for (const char* bad : {"/../etc/passwd", "/assets/../../x", "/.git/config", "/a/./b", "/a\\b", "", "//etc/passwd",
                          "/assets//x", "relative"}) {
    EXPECT_FALSE(IsSafeStaticPath(bad)) << bad;
  }
  for (const char* good : {"/", "/index.html", "/assets/index-abc.js", "/some/spa/route"}) {
    EXPECT_TRUE(IsSafeStaticPath(good)) << good;
  }
}

TEST(StaticFiles, ServeNothingOutsideTheRootEvenThroughLinksOrASiblingWithTheSamePrefix) {
  namespace fs = std::filesystem;
  fs::path base = fs::temp_directory_path() / ("rounds-static-" + std::to_string(::testing::UnitTest::GetInstance()->random_seed()));
  fs::remove_all(base);
  fs::create_directories(base / "site" / "assets");
  fs::create_directories(base / "site2");
  std::ofstream(base / "site" / "index.html") << "<html>app</html>";
  std::ofstream(base / "site" / "assets" / "a.js") << "js";
  std::ofstream(base / "site2" / "secret.txt") << "secret";
  fs::create_symlink(base / "site2" / "secret.txt", base / "site" / "assets" / "link.txt");
  fs::create_directory_symlink(base / "site2", base / "site" / "assets" / "dir");
  StaticFiles files((base / "site").string());
  auto get = [&](const std::string& path) {
    Request request;
    request.method = "GET";
    request.path = path;
    return files.Serve(request);
  };
  EXPECT_EQ(get("/assets/a.js").body, "js");
  EXPECT_EQ(get("/assets/a.js").content_type, "text/javascript; charset=utf-8");
  EXPECT_EQ(get("/some/route").body, "<html>app</html>");
  EXPECT_EQ(get("/assets/link.txt").status, 404);
  EXPECT_EQ(get("/assets/dir/secret.txt").status, 404);
  EXPECT_EQ(get("/../site2/secret.txt").status, 404);
  EXPECT_EQ(get("//etc/passwd").status, 404);
  Response first = get("/assets/a.js");
  std::string etag;
  for (const auto& [name, value] : first.headers) {
    if (name == "ETag") etag = value;
  }
  Request again;
  again.method = "GET";
  again.path = "/assets/a.js";
  again.headers["if-none-match"] = etag;
  EXPECT_EQ(files.Serve(again).status, 304);
  fs::remove_all(base);
}

TEST(Problems, ProtocolProblemsCarryTheirOwnStatus) {
  Response r = ProtocolProblem(405, "method_not_allowed", "No.");
  EXPECT_EQ(r.status, 405);
  auto body = nlohmann::json::parse(r.body);
  EXPECT_EQ(body["status"], 405);
  EXPECT_EQ(body["title"], "Method Not Allowed");
  EXPECT_EQ(r.content_type, "application/problem+json; charset=utf-8");
}

TEST(Problems, MapEveryErrorCodeToOneStatus) {
  EXPECT_EQ(HttpStatusFor(ErrorCode::kInvalidArgument), 400);
  EXPECT_EQ(HttpStatusFor(ErrorCode::kUnauthenticated), 401);
  EXPECT_EQ(HttpStatusFor(ErrorCode::kForbidden), 403);
  EXPECT_EQ(HttpStatusFor(ErrorCode::kNotFound), 404);
  EXPECT_EQ(HttpStatusFor(ErrorCode::kConflict), 409);
  EXPECT_EQ(HttpStatusFor(ErrorCode::kPayloadTooLarge), 413);
  EXPECT_EQ(HttpStatusFor(ErrorCode::kRateLimited), 429);
  EXPECT_EQ(HttpStatusFor(ErrorCode::kInternal), 500);
  Error e{ErrorCode::kRateLimited, "account_locked", "Try later.", "secret internal detail"};
  e.retry_after_seconds = 30;
  Response r = ProblemResponse(e);
  EXPECT_EQ(r.status, 429);
  EXPECT_EQ(r.content_type, "application/problem+json; charset=utf-8");
  EXPECT_EQ(r.body.find("secret internal detail"), std::string::npos);
  auto body = nlohmann::json::parse(r.body);
  EXPECT_EQ(body["code"], "account_locked");
  ASSERT_EQ(r.headers.size(), 1u);
  EXPECT_EQ(r.headers[0], (std::pair<std::string, std::string>{"Retry-After", "30"}));
}

// Every answer had 30 s to be written, whatever its size: a 25 MiB attachment was cut off for
// any reader slower than 0.83 MiB a second. The time now grows with the body.
TEST(Answers, LargeBodiesGetTheTimeASlowReaderNeeds) {
  EXPECT_EQ(AnswerWriteTimeout(0), std::chrono::seconds(30));
  EXPECT_EQ(AnswerWriteTimeout(30 * 1024), std::chrono::seconds(30));
  EXPECT_EQ(AnswerWriteTimeout(25ull << 20), std::chrono::seconds(55));  // max_attachment_bytes
  EXPECT_GE(AnswerWriteTimeout(2ull << 30), std::chrono::seconds(2048 + 30));  // a large export
}

}  // namespace
}  // namespace rounds::transport
