#include "client/dev_netns.h"

#include <fcntl.h>
#include <sched.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>

namespace shoal::client::netns {

namespace {

constexpr const char* k_tag_file = "/netns";
constexpr const char* k_client_address = "10.78.0.250";
constexpr const char* k_prefix_len = "/24";

// Runs argv (no shell), quietly; returns its exit code (127: could not start it).
int run(const std::vector<std::string>& argv) {
    std::vector<char*> args;
    for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    const pid_t pid = ::fork();
    if (pid < 0) return 127;
    if (pid == 0) {
        const int null = ::open("/dev/null", O_WRONLY);
        if (null >= 0) ::dup2(null, 1), ::dup2(null, 2);
        ::execvp(args[0], args.data());
        ::_exit(127);
    }
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128;
}

std::string must(const std::vector<std::string>& argv) {
    if (run(argv) == 0) return "";
    std::string cmd;
    for (const auto& a : argv) cmd += (cmd.empty() ? "" : " ") + a;
    return "failed: " + cmd;
}

std::string hub(const std::string& tag) {
    return tag + "hub";
}
std::string client(const std::string& tag) {
    return tag + "cl";
}

std::string make_namespace(const std::string& name) {
    if (auto e = must({"ip", "netns", "add", name}); !e.empty()) return e;
    return must({"ip", "-n", name, "link", "set", "lo", "up"});
}

// A veth pair from the hub's bridge into namespace `ns`, with `address` there.
std::string attach(const std::string& tag, const std::string& ns, const std::string& port, const std::string& address) {
    for (const auto& argv : std::vector<std::vector<std::string>>{
             {"ip", "-n", hub(tag), "link", "add", port, "type", "veth", "peer", "name", "eth0", "netns", ns},
             {"ip", "-n", hub(tag), "link", "set", port, "master", "br0"},
             {"ip", "-n", hub(tag), "link", "set", port, "up"},
             {"ip", "-n", ns, "addr", "add", address + k_prefix_len, "dev", "eth0"},
             {"ip", "-n", ns, "link", "set", "eth0", "up"}}) {
        if (auto e = must(argv); !e.empty()) return e;
    }
    return "";
}

std::string in_ns(const std::string& ns, std::vector<std::string> argv) {
    argv.insert(argv.begin(), {"ip", "netns", "exec", ns});
    return must(argv);
}

bool valid_value(const std::string& v, const char* unit) {
    const std::size_t digits = v.find_first_not_of("0123456789.");
    return digits != 0 && digits != std::string::npos && v.substr(digits) == unit && v.size() <= 12;
}

}  // namespace

std::string tag_of(const std::string& dir) {
    std::ifstream in(dir + k_tag_file);
    std::string tag;
    in >> tag;
    return tag;
}

std::string unavailable() {
    if (::geteuid() != 0) return "--netns needs root: network namespaces, a bridge and iptables rules are made for it";
    if (run({"ip", "netns", "list"}) != 0) return "--netns needs the `ip` tool (iproute2)";
    return "";
}

std::string create(const std::string& dir, const std::string& tag) {
    if (auto e = make_namespace(hub(tag)); !e.empty()) return e;
    if (auto e = must({"ip", "-n", hub(tag), "link", "add", "br0", "type", "bridge"}); !e.empty()) return e;
    if (auto e = must({"ip", "-n", hub(tag), "link", "set", "br0", "up"}); !e.empty()) return e;
    if (auto e = make_namespace(client(tag)); !e.empty()) return e;
    if (auto e = attach(tag, client(tag), "bcl", k_client_address); !e.empty()) return e;
    std::ofstream(dir + k_tag_file) << tag << "\n";
    return "";
}

std::string add_node(const std::string& tag, int id) {
    const std::string ns = node_namespace(tag, id);
    if (auto e = make_namespace(ns); !e.empty()) return e;
    return attach(tag, ns, "b" + std::to_string(id), node_address(id));
}

void destroy(const std::string& dir, const std::string& tag, int max_id) {
    for (int id = 1; id <= max_id; ++id) run({"ip", "netns", "del", node_namespace(tag, id)});
    run({"ip", "netns", "del", client(tag)});
    run({"ip", "netns", "del", hub(tag)});
    std::remove((dir + k_tag_file).c_str());
}

std::string node_namespace(const std::string& tag, int id) {
    return tag + "n" + std::to_string(id);
}
std::string node_address(int id) {
    return "10.78.0." + std::to_string(id);
}

std::string enter_client(const std::string& dir) {
    const std::string tag = tag_of(dir);
    if (tag.empty()) return "";
    const std::string path = "/var/run/netns/" + client(tag);
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return "cannot open " + path + " (" + std::strerror(errno) + "): is the netns cluster up, and are you root?";
    const int rc = ::setns(fd, CLONE_NEWNET);
    const int err = errno;
    ::close(fd);
    if (rc != 0) return std::string("cannot enter the cluster's client namespace: ") + std::strerror(err);
    return "";
}

std::vector<std::string> in_node(const std::string& tag, int id, std::vector<std::string> program) {
    program.insert(program.begin(), {"ip", "netns", "exec", node_namespace(tag, id)});
    return program;
}

std::string partition(const std::string& tag, const std::vector<int>& from, const std::vector<int>& to, bool one_way) {
    for (int a : from) {
        for (int b : to) {
            if (a == b) return "node " + std::to_string(a) + " is on both sides";
            // What a sends to b is dropped where b receives it; both ways unless one_way.
            if (auto e =
                    in_ns(node_namespace(tag, b), {"iptables", "-A", "INPUT", "-s", node_address(a), "-j", "DROP"});
                !e.empty())
                return e;
            if (one_way) continue;
            if (auto e =
                    in_ns(node_namespace(tag, a), {"iptables", "-A", "INPUT", "-s", node_address(b), "-j", "DROP"});
                !e.empty())
                return e;
        }
    }
    return "";
}

std::string netem(const std::string& tag, int id, const std::vector<std::string>& spec) {
    std::vector<std::string> argv{"tc", "qdisc", "replace", "dev", "eth0", "root", "netem"};
    std::string delay, jitter, loss;
    for (const auto& s : spec) {
        const auto eq = s.find('=');
        const std::string k = s.substr(0, eq), v = eq == std::string::npos ? "" : s.substr(eq + 1);
        if (k == "delay" && valid_value(v, "ms"))
            delay = v;
        else if (k == "jitter" && valid_value(v, "ms"))
            jitter = v;
        else if (k == "loss" && valid_value(v, "%"))
            loss = v;
        else
            return "bad netem setting '" + s + "' (delay=20ms jitter=5ms loss=5%)";
    }
    if (delay.empty() && loss.empty()) return "netem needs delay= or loss=";
    if (!jitter.empty() && delay.empty()) return "jitter needs a delay";
    if (!delay.empty()) {
        argv.insert(argv.end(), {"delay", delay});
        if (!jitter.empty()) argv.push_back(jitter);
    }
    if (!loss.empty()) argv.insert(argv.end(), {"loss", loss});
    if (auto e = in_ns(node_namespace(tag, id), argv); !e.empty())
        return e + " (does this kernel have the sch_netem module? `modprobe sch_netem`)";
    return "";
}

std::string heal(const std::string& tag, const std::vector<int>& ids) {
    for (int id : ids) {
        const std::string ns = node_namespace(tag, id);
        if (auto e = in_ns(ns, {"iptables", "-F", "INPUT"}); !e.empty()) return e;
        run({"ip", "netns", "exec", ns, "tc", "qdisc", "del", "dev", "eth0", "root"});  // absent: nothing to undo
    }
    return "";
}

int exec_in_client(const std::string& dir, const std::vector<std::string>& cmd) {
    if (cmd.empty()) return std::fputs("usage: shoal dev exec -- CMD [ARGS...]\n", stderr), 2;
    if (auto e = enter_client(dir); !e.empty()) return std::fprintf(stderr, "shoal dev exec: %s\n", e.c_str()), 1;
    std::vector<char*> args;
    for (const auto& a : cmd) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    ::execvp(args[0], args.data());
    std::fprintf(stderr, "shoal dev exec: cannot run %s: %s\n", cmd[0].c_str(), std::strerror(errno));
    return 127;
}

}  // namespace shoal::client::netns
