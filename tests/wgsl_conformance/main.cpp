// kem_wgsl_conformance: KEM's WGSL front end against Tint over Dawn's own test corpus (issue 19,
// part 1). For each file: does Tint accept it as written (with a device set up like KEM's); does
// KEM's front end (parse, reflect, meter) accept it; does Tint accept KEM's metered text. The
// verdicts come from child processes (worker.h), so a file that crashes Dawn is counted, not fatal.
//
//   kem_wgsl_conformance --dir DIR --docs docs/wgsl.md [--manifest M] [--every N] [--offset K]
//                        [--timeout SECONDS] [--verbose] [--run]
//
// DIR holds the corpus's dawn__NNNNN.wgsl files (scripts/wgsl-conformance.sh unpacks them).
// docs/wgsl.md's tables "Contract refusals" (message patterns) and "Known disagreements" (file
// names) are read at run time: the docs are the one list. Exit status 0 when every disagreement
// is a known one and every known one in the shard still disagrees; 1 otherwise; 2 on bad usage.
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "docs_tables.h"
#include "worker.h"

namespace fs = std::filesystem;
using namespace kem::conformance;

namespace {

struct Options {
  std::string dir, docs, manifest;
  size_t every = 1, offset = 0;
  int timeout_s = 60;
  bool verbose = false;
  bool run = false;  // also run accepted files metered and unmetered (sample_run.h)
};

struct Verdict {
  std::string cls, detail;
};

// Runs one child from `start`; appends the verdicts it gives. A child that dies or stalls gets
// the file it was on recorded as a crash (attributed by the last stage marker it wrote).
void run_child(const std::vector<std::string>& files, size_t start, int timeout_s, bool run,
               std::vector<Verdict>& out) {
  int fds[2];
  if (::pipe(fds) != 0) { std::perror("pipe"); std::exit(2); }
  std::fflush(nullptr);
  pid_t pid = ::fork();
  if (pid < 0) { std::perror("fork"); std::exit(2); }
  if (pid == 0) {  // the parent never touched Dawn, so the child starts clean
    ::close(fds[0]);
    std::_Exit(run_worker(files, start, fds[1], run));
  }
  ::close(fds[1]);
  std::string buffer, stage = "idle";
  size_t given = out.size();
  bool stalled = false;
  for (;;) {
    pollfd p{fds[0], POLLIN, 0};
    int ready = ::poll(&p, 1, timeout_s * 1000);
    if (ready == 0) { stalled = true; break; }
    if (ready < 0 && errno == EINTR) continue;
    char chunk[4096];
    ssize_t n = ::read(fds[0], chunk, sizeof chunk);
    if (n <= 0) break;
    buffer.append(chunk, static_cast<size_t>(n));
    size_t nl;
    while ((nl = buffer.find('\n')) != std::string::npos) {
      std::string line = buffer.substr(0, nl);
      buffer.erase(0, nl + 1);
      if (line == "~start") stage = "kem";
      else if (line == "~front") stage = "tint";
      else if (line == "~tint") stage = "metered";
      else if (line == "~run") stage = "run";
      else if (!line.empty() && line[0] == '!') { std::fprintf(stderr, "worker: %s\n", line.c_str() + 1); std::exit(2); }
      else if (!line.empty() && line[0] == '=') {
        size_t tab = line.find('\t');
        out.push_back({line.substr(1, tab - 1), tab == std::string::npos ? "" : line.substr(tab + 1)});
        stage = "idle";
      }
    }
  }
  if (stalled) ::kill(pid, SIGKILL);
  int status = 0;
  ::waitpid(pid, &status, 0);
  ::close(fds[0]);
  if (out.size() >= files.size()) return;
  // Between files (a lost device ends a child on purpose): the next child goes on from here.
  if (stage == "idle" && out.size() > given) return;
  // Who crashed: KEM's front end (before "~front"), Tint on the file as written, Tint on KEM's
  // metered text (after "~tint", the file as written having compiled), or, with --run, pipeline
  // creation and the calls (after "~run": Tint's back end, lavapipe), counted but not KEM's.
  std::string how = stalled ? "stalled " + std::to_string(timeout_s) + " s"
                    : WIFSIGNALED(status) ? std::string("signal ") + strsignal(WTERMSIG(status))
                                          : "exit " + std::to_string(WEXITSTATUS(status));
  if (stage == "idle") out.push_back({"worker-failed", how});
  else if (stage == "kem") out.push_back({"kem-crash", how});
  else if (stage == "tint") out.push_back({"tint-crash", how});
  else if (stage == "metered") out.push_back({"metered-crash", how});
  else out.push_back({"run-crash", how});
}

bool disagreement(const std::string& cls) {
  return cls == "kem-refuses-valid" || cls == "metered-rejected" || cls == "kem-crash" || cls == "metered-crash" ||
         cls == "worker-failed" || cls == "ran-different" || cls == "run-failed-metered";
}

int usage() {
  std::fprintf(stderr, "usage: kem_wgsl_conformance --dir DIR --docs docs/wgsl.md [--manifest M] "
                       "[--every N] [--offset K] [--timeout S] [--verbose] [--run]\n");
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto next = [&]() -> std::string { return i + 1 < argc ? argv[++i] : ""; };
    if (a == "--dir") o.dir = next();
    else if (a == "--docs") o.docs = next();
    else if (a == "--manifest") o.manifest = next();
    else if (a == "--every") o.every = std::max<size_t>(1, std::stoul(next()));
    else if (a == "--offset") o.offset = std::stoul(next());
    else if (a == "--timeout") o.timeout_s = std::stoi(next());
    else if (a == "--verbose") o.verbose = true;
    else if (a == "--run") o.run = true;
    else return usage();
  }
  if (o.dir.empty() || o.docs.empty()) return usage();
  auto tables = read_docs_tables(o.docs);
  if (!tables) { std::fprintf(stderr, "%s\n", tables.error().message.c_str()); return 2; }
  std::map<std::string, std::string> paths = o.manifest.empty() ? std::map<std::string, std::string>{}
                                                                 : read_manifest(o.manifest);

  // The shard: every N-th file of the sorted list, from the K-th: the same files on every run.
  std::vector<std::string> all, files;
  for (const auto& e : fs::directory_iterator(o.dir))
    if (e.path().extension() == ".wgsl") all.push_back(e.path().string());
  std::sort(all.begin(), all.end());
  for (size_t i = o.offset; i < all.size(); i += o.every) files.push_back(all[i]);
  if (files.empty()) { std::fprintf(stderr, "no .wgsl files in %s\n", o.dir.c_str()); return 2; }

  auto began = std::chrono::steady_clock::now();
  std::vector<Verdict> verdicts;
  while (verdicts.size() < files.size()) run_child(files, verdicts.size(), o.timeout_s, o.run, verdicts);

  std::map<std::string, size_t> counts;
  size_t fresh = 0, known = 0;
  std::set<std::string> seen_known;
  for (size_t i = 0; i < files.size(); ++i) {
    Verdict& v = verdicts[i];
    if (v.cls == "kem-refuses") v.cls = contract_reason(*tables, v.detail) ? "contract-refusal" : "kem-refuses-valid";
    ++counts[v.cls];
    std::string name = fs::path(files[i]).filename().string();
    std::string where = paths.count(fs::path(name).stem().string()) ? paths[fs::path(name).stem().string()] : "";
    bool is_known = tables->known.count(name) > 0;
    if (disagreement(v.cls)) {
      if (is_known) { ++known; seen_known.insert(name); }
      else ++fresh;
      std::printf("%s %s %s %s: %s\n", is_known ? "KNOWN" : "NEW", v.cls.c_str(), name.c_str(), where.c_str(),
                  v.detail.c_str());
    } else if (o.verbose || v.cls == "tint-crash" || v.cls == "run-crash") {
      std::printf("%s %s %s: %s\n", v.cls.c_str(), name.c_str(), where.c_str(), v.detail.c_str());
    }
  }
  // A known disagreement in this shard that now agrees must leave the docs' list.
  size_t healed = 0;
  for (size_t i = 0; i < files.size(); ++i) {
    std::string name = fs::path(files[i]).filename().string();
    if (tables->known.count(name) && !seen_known.count(name)) {
      std::printf("HEALED %s now %s: remove it from docs/wgsl.md's known disagreements\n", name.c_str(),
                  verdicts[i].cls.c_str());
      ++healed;
    }
  }
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - began).count();
  std::printf("files %zu (every %zu from %zu of %zu) in %.1f s\n", files.size(), o.every, o.offset, all.size(),
              seconds);
  for (const auto& [cls, n] : counts) std::printf("  %-18s %zu\n", cls.c_str(), n);
  std::printf("disagreements: %zu new, %zu known; known now agreeing: %zu\n", fresh, known, healed);
  return fresh == 0 && healed == 0 ? 0 : 1;
}
