#include "client/dev_cluster.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "client/dev_netns.h"
#include "client/dev_tls.h"
#include "client/http_get.h"
#include "gossip/view.h"

namespace shoal::client {

namespace fs = std::filesystem;

namespace {

std::string node_file(const std::string& dir, int id, const char* ext) {
    return dir + "/n" + std::to_string(id) + ext;
}

bool port_free(int port) {
    int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0) return false;
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(static_cast<std::uint16_t>(port));
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    int one = 1;
    ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    const bool ok = ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
    ::close(fd);
    return ok;
}

int read_pid(const std::string& dir, int id) {
    std::ifstream in(node_file(dir, id, ".pid"));
    int pid = 0;
    in >> pid;
    return pid;
}

// A zombie (exited, not yet reaped by whoever adopted it) counts as dead.
bool alive(int pid) {
    if (pid <= 0 || ::kill(pid, 0) != 0) return false;
    std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
    std::string line;
    std::getline(stat, line);
    const auto paren = line.rfind(')');
    if (paren == std::string::npos || paren + 2 >= line.size() || line[paren + 2] != 'Z') return true;
    // A zombie leader may still have threads exiting, and they hold its files (the
    // store's lock among them): dead only when no other thread is left.
    std::error_code ec;
    int threads = 0;
    for (auto it = fs::directory_iterator("/proc/" + std::to_string(pid) + "/task", ec);
         !ec && it != fs::directory_iterator(); it.increment(ec))
        ++threads;
    return threads > 1;
}

std::string shoald_path(const std::string& self_exe) {
    if (const char* env = std::getenv("SHOALD")) return env;
    return (fs::path(self_exe).parent_path() / "shoald").string();
}

// `dev clock`: node `id`'s config without its clock_offset_ms line, plus one for
// `offset_ms` (0: none). Returns false when the config cannot be rewritten.
bool set_clock_offset(const std::string& dir, int id, std::int64_t offset_ms) {
    const std::string path = node_file(dir, id, ".conf");
    std::ifstream in(path);
    if (!in) return false;
    std::string kept, line;
    while (std::getline(in, line))
        if (line.rfind("clock_offset_ms", 0) != 0) kept += line + "\n";
    in.close();
    if (offset_ms != 0) kept += "clock_offset_ms = " + std::to_string(offset_ms) + "\n";
    std::ofstream out(path, std::ios::trunc);
    out << kept;
    return static_cast<bool>(out);
}

int start_node(const std::string& dir, int id, const std::string& shoald) {
    const std::string log = node_file(dir, id, ".log");
    const std::string conf = node_file(dir, id, ".conf");
    pid_t pid = ::fork();
    if (pid < 0) return 0;
    if (pid == 0) {
        ::setsid();
        int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
        int devnull = ::open("/dev/null", O_RDONLY);
        if (fd >= 0) {
            ::dup2(fd, 1);
            ::dup2(fd, 2);
        }
        if (devnull >= 0) ::dup2(devnull, 0);
        // A daemon must not inherit the caller's descriptors (sockets, locks).
        ::close_range(3, ~0U, 0);
        if (const std::string tag = netns::tag_of(dir); !tag.empty()) {
            // In its own namespace; `ip netns exec` execs shoald in place (same pid).
            std::vector<std::string> argv = netns::in_node(tag, id, {shoald, "--config", conf});
            std::vector<char*> args;
            for (auto& a : argv) args.push_back(a.data());
            args.push_back(nullptr);
            ::execvp("ip", args.data());
        }
        ::execl(shoald.c_str(), "shoald", "--config", conf.c_str(), static_cast<char*>(nullptr));
        std::perror("exec shoald");
        ::_exit(127);
    }
    std::ofstream(node_file(dir, id, ".pid")) << pid << "\n";
    return pid;
}

bool wait_healthy(const DevNode& n, int timeout_ms) {
    const auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
    while (std::chrono::steady_clock::now() < until) {
        if (http_get(n.http, "/health", 500).status == 200) return true;
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    return false;
}

bool wait_exit(int pid, int timeout_ms) {
    const auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
    while (std::chrono::steady_clock::now() < until) {
        ::waitpid(pid, nullptr, WNOHANG);  // reaps it if it is our child
        if (!alive(pid)) return true;
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return false;
}

int stop_node(const std::string& dir, int id) {
    const int pid = read_pid(dir, id);
    if (!alive(pid)) return 0;
    ::kill(pid, SIGCONT);  // a stopped node cannot handle SIGTERM
    ::kill(pid, SIGTERM);
    if (!wait_exit(pid, 10000)) {
        std::fprintf(stderr, "node %d did not stop in 10 s; sending SIGKILL\n", id);
        ::kill(pid, SIGKILL);
        wait_exit(pid, 5000);
    }
    return 0;
}

std::string zone_of(int id) {
    return "z" + std::to_string((id - 1) % 3 + 1);
}

DevNode node_at(int id, int base_port) {
    const int p = base_port + 10 * id;
    return DevNode{id, "127.0.0.1:" + std::to_string(p + 1), "127.0.0.1:" + std::to_string(p + 2),
                   "127.0.0.1:" + std::to_string(p + 3)};
}

bool ports_free(const char* what, int id, int base_port) {
    for (int k = 1; k <= 4; ++k) {
        const int port = base_port + 10 * id + k;
        if (!port_free(port)) {
            std::fprintf(stderr, "shoal dev %s: port %d is in use; pick another --base-port\n", what, port);
            return false;
        }
    }
    return true;
}

// `nrw`: the "n = ..", "r = ..", "w = .." lines, each ending in a newline.
void write_conf(const std::string& dir, const DevNode& n, const std::vector<std::string>& seeds, const std::string& nrw,
                const char* writer) {
    std::string seed_list;
    for (const auto& s : seeds) seed_list += (seed_list.empty() ? "" : ",") + s;
    std::ofstream conf(node_file(dir, n.id, ".conf"));
    conf << "# written by shoal dev " << writer << "\n"
         << "id = " << n.id << "\npeer_listen = " << n.peer << "\nclient_listen = " << n.client
         << "\nhttp_listen = " << n.http << "\nresp_listen = " << resp_address(n) << "\ndata_dir = " << fs::absolute(dir).string() << "/n" << n.id
         << "\nzone = " << zone_of(n.id) << "\ngossip_interval_ms = 200\n";
    if (!seed_list.empty()) conf << "seeds = " << seed_list << "\n";
    conf << nrw << dev_tls_conf(dir, n.id);
}

// Node n's certificate, when the cluster runs with TLS; false (said) when it cannot be made.
bool issue_cert(const std::string& dir, const DevNode& n, const char* what) {
    if (!dev_tls_on(dir)) return true;
    const std::string err = dev_tls_node(dir, n.id, n.client.substr(0, n.client.rfind(':')));
    if (err.empty()) return true;
    std::fprintf(stderr, "shoal dev %s: node %d's certificate: %s\n", what, n.id, err.c_str());
    return false;
}

void print_node(const std::string& dir, const DevNode& n) {
    std::printf("node %d  pid %d  client %s  http %s  redis %s  peer %s\n", n.id, read_pid(dir, n.id), n.client.c_str(),
                n.http.c_str(), resp_address(n).c_str(), n.peer.c_str());
}

bool check_shoald(const char* what, const std::string& shoald) {
    if (fs::exists(shoald)) return true;
    std::fprintf(stderr, "shoal dev %s: shoald not found at %s (set SHOALD)\n", what, shoald.c_str());
    return false;
}

bool launch(const std::string& dir, const DevNode& n, const std::string& shoald, const char* what) {
    if (start_node(dir, n.id, shoald) <= 0) {
        std::fprintf(stderr, "shoal dev %s: cannot start node %d\n", what, n.id);
        return false;
    }
    return true;
}

// Node `id` of a netns cluster: its own address, the default ports.
DevNode netns_node(int id) {
    const std::string a = netns::node_address(id);
    return DevNode{id, a + ":7101", a + ":7102", a + ":7103"};
}

int dev_up(const std::string& dir, int count, int base_port, bool use_netns, bool use_tls, const std::string& shoald,
           const WaitSettled& wait_settled) {
    if (count < 1 || count > 64) {
        std::fprintf(stderr, "shoal dev up: N must be 1..64\n");
        return 2;
    }
    for (const auto& n : dev_nodes(dir)) {
        if (alive(read_pid(dir, n.id))) {
            std::fprintf(stderr, "shoal dev up: a cluster is already running in %s (shoal dev down first)\n",
                         dir.c_str());
            return 1;
        }
    }
    if (!check_shoald("up", shoald)) return 1;
    std::vector<DevNode> nodes;
    fs::create_directories(dir);
    // TLS on by default: a CA of the cluster's own, a certificate per node, and an admin
    // client certificate for the CLI (dev_tls.h). --no-tls: plain TCP on loopback.
    std::error_code ignored;
    if (!use_tls) fs::remove_all(dev_tls_dir(dir), ignored);
    if (use_tls) {
        if (auto err = dev_tls_init(dir); !err.empty()) {
            std::fprintf(stderr, "shoal dev up: cannot make the cluster's certificates: %s\n", err.c_str());
            return 1;
        }
    }
    set_http_tls(dev_client_tls(dir));
    if (use_netns) {
        if (auto why = netns::unavailable(); !why.empty()) {
            std::fprintf(stderr, "shoal dev up: %s\n", why.c_str());
            return 1;
        }
        const std::string tag = "sd" + std::to_string(::getpid() % 100000);
        std::string err = netns::create(dir, tag);
        for (int i = 1; i <= count && err.empty(); ++i) err = netns::add_node(tag, i);
        if (!err.empty() || !(err = netns::enter_client(dir)).empty()) {
            netns::destroy(dir, tag, count);
            std::fprintf(stderr, "shoal dev up --netns: %s\n", err.c_str());
            return 1;
        }
        for (int i = 1; i <= count; ++i) nodes.push_back(netns_node(i));
    } else {
        for (int i = 1; i <= count; ++i) {
            if (!ports_free("up", i, base_port)) return 1;
            nodes.push_back(node_at(i, base_port));
        }
    }
    const std::string nrw = "n = " + std::to_string(std::min(3, count)) +
                            "\nr = " + std::to_string(std::min(2, count)) +
                            "\nw = " + std::to_string(std::min(2, count)) + "\n";
    std::ofstream list(dir + "/nodes");
    std::vector<std::string> http;
    for (const auto& n : nodes) {
        if (!issue_cert(dir, n, "up")) return 1;
        list << n.id << ' ' << n.peer << ' ' << n.client << ' ' << n.http << '\n';
        // Node 1 founds the cluster; the others join through it.
        write_conf(dir, n, n.id == 1 ? std::vector<std::string>{} : std::vector<std::string>{nodes[0].peer}, nrw, "up");
        http.push_back(n.http);
    }
    list.close();
    for (const auto& n : nodes) {
        if (!launch(dir, n, shoald, "up")) return 1;
    }
    for (const auto& n : nodes) {
        if (!wait_healthy(n, 15000)) {
            std::fprintf(stderr, "shoal dev up: node %d is not healthy; see %s\n", n.id,
                         node_file(dir, n.id, ".log").c_str());
            return 1;
        }
    }
    if (count > 1 && !wait_settled(http, true, 60)) {
        std::fprintf(stderr, "shoal dev up: the cluster did not settle in 60 s; see %s/n*.log\n", dir.c_str());
        return 1;
    }
    for (const auto& n : nodes) print_node(dir, n);
    std::printf("%d-node cluster up in %s (logs: %s/n*.log)\n", count, dir.c_str(), dir.c_str());
    return 0;
}

// The "n = ", "r = " and "w = " lines of node `id`'s config.
std::string replication_lines(const std::string& dir, int id) {
    std::ifstream in(node_file(dir, id, ".conf"));
    std::string out, line;
    while (std::getline(in, line)) {
        if (line.rfind("n =", 0) == 0 || line.rfind("r =", 0) == 0 || line.rfind("w =", 0) == 0) out += line + "\n";
    }
    return out;
}

int dev_add(const std::string& dir, const std::vector<DevNode>& nodes, bool standalone, const std::string& shoald,
            const WaitSettled& wait_settled) {
    if (!check_shoald("add", shoald)) return 1;
    int max_id = 0;
    for (const auto& n : nodes) max_id = std::max(max_id, n.id);
    if (max_id >= 64) {
        std::fprintf(stderr, "shoal dev add: at most 64 nodes\n");
        return 1;
    }
    const DevNode* first = find_dev_node(nodes, "1");
    if (first == nullptr) first = &nodes[0];
    const int id = max_id + 1;
    DevNode added;
    if (const std::string tag = netns::tag_of(dir); !tag.empty()) {
        if (auto err = netns::add_node(tag, id); !err.empty()) {
            std::fprintf(stderr, "shoal dev add: %s\n", err.c_str());
            return 1;
        }
        added = netns_node(id);
    } else {
        // Ports follow dev up's plan: base + 10 * id + {1, 2, 3, 4}.
        const auto colon = first->peer.rfind(':');
        const int peer_port = colon == std::string::npos ? 0 : std::atoi(first->peer.c_str() + colon + 1);
        const int base_port = peer_port - 10 * first->id - 1;
        if (base_port < 1024) {
            std::fprintf(stderr, "shoal dev add: cannot read node ports from %s/nodes\n", dir.c_str());
            return 1;
        }
        if (!ports_free("add", id, base_port)) return 1;
        added = node_at(id, base_port);
    }
    std::vector<std::string> seeds;
    for (const auto& n : nodes) {
        if (!standalone && seeds.size() < gossip::k_max_seeds) seeds.push_back(n.peer);  // what shoald takes
    }
    if (!issue_cert(dir, added, "add")) return 1;
    write_conf(dir, added, seeds, replication_lines(dir, first->id), "add");
    std::ofstream(dir + "/nodes", std::ios::app)
        << added.id << ' ' << added.peer << ' ' << added.client << ' ' << added.http << '\n';
    if (!launch(dir, added, shoald, "add")) return 1;
    if (!wait_healthy(added, 15000)) {
        std::fprintf(stderr, "shoal dev add: node %d is not healthy; see %s\n", id, node_file(dir, id, ".log").c_str());
        return 1;
    }
    print_node(dir, added);
    if (standalone) {
        std::printf("node %d runs alone; join it with: shoal cluster join %d SEED\n", id, id);
        return 0;
    }
    std::vector<std::string> http;
    for (const auto& n : nodes) {
        if (alive(read_pid(dir, n.id))) http.push_back(n.http);
    }
    http.push_back(added.http);
    if (!wait_settled(http, true, 120)) {
        std::fprintf(stderr, "shoal dev add: the cluster did not settle in 120 s; see %s/n*.log\n", dir.c_str());
        return 1;
    }
    std::printf("node %d joined; the cluster has settled\n", id);
    return 0;
}

}  // namespace

std::string resp_address(const DevNode& n) {
    const auto colon = n.http.rfind(':');
    return n.http.substr(0, colon + 1) + std::to_string(std::atoi(n.http.c_str() + colon + 1) + 1);
}

std::vector<DevNode> dev_nodes(const std::string& dir) {
    std::vector<DevNode> out;
    std::ifstream in(dir + "/nodes");
    DevNode n;
    while (in >> n.id >> n.peer >> n.client >> n.http) out.push_back(n);
    return out;
}

const DevNode* find_dev_node(const std::vector<DevNode>& nodes, const std::string& name) {
    std::string s = name;
    if (!s.empty() && s[0] == 'n') s = s.substr(1);
    if (s.empty() || s.find_first_not_of("0123456789") != std::string::npos || s.size() > 9) return nullptr;
    const int id = std::atoi(s.c_str());
    for (const auto& n : nodes) {
        if (n.id == id) return &n;
    }
    return nullptr;
}


int dev_command(const std::vector<std::string>& args, const std::string& dir, const std::string& self_exe,
                const WaitSettled& wait_settled) {
    if (args.empty()) {
        std::fprintf(stderr,
                     "usage: shoal dev up N [--base-port P] [--netns] | add [--standalone] | down | status | "
                     "kill|stop|cont|restart NODE | partition A / B [--one-way] | bridge N A,B | "
                     "netem N delay=.. jitter=.. loss=.. | heal | exec -- CMD | clock NODE +30s|0\n");
        return 2;
    }
    const std::string& cmd = args[0];
    if (cmd == "up") {
        if (args.size() < 2) {
            std::fprintf(stderr, "usage: shoal dev up N [--base-port P] [--netns] [--no-tls]\n");
            return 2;
        }
        int base = 7100;
        bool use_netns = false, use_tls = true;
        for (std::size_t i = 2; i < args.size(); ++i) {
            if (args[i] == "--base-port" && i + 1 < args.size()) base = std::atoi(args[++i].c_str());
            else if (args[i] == "--netns") use_netns = true;
            else if (args[i] == "--no-tls") use_tls = false;
            else return std::fprintf(stderr, "usage: shoal dev up N [--base-port P] [--netns] [--no-tls]\n"), 2;
        }
        if (base < 1024 || base > 65000) {
            std::fprintf(stderr, "shoal dev up: --base-port must be 1024..65000\n");
            return 2;
        }
        return dev_up(dir, std::atoi(args[1].c_str()), base, use_netns, use_tls, shoald_path(self_exe),
                      wait_settled);
    }
    if (!http_tls().enabled()) set_http_tls(dev_client_tls(dir));
    const auto nodes = dev_nodes(dir);
    if (nodes.empty()) {
        std::fprintf(stderr, "shoal dev %s: no cluster in %s (shoal dev up N first)\n", cmd.c_str(), dir.c_str());
        return 1;
    }
    const std::string tag = netns::tag_of(dir);
    if (cmd == "exec") return netns::exec_in_client(dir, {args.begin() + 1, args.end()});
    if (cmd == "partition" || cmd == "bridge" || cmd == "heal" || cmd == "netem")
        return dev_network_fault(tag, nodes, args);
    // What follows talks to the nodes: from the cluster's client namespace, if it has one.
    if (auto err = netns::enter_client(dir); !err.empty() && cmd != "down") {
        std::fprintf(stderr, "shoal dev %s: %s\n", cmd.c_str(), err.c_str());
        return 1;
    }
    if (cmd == "add") {
        bool standalone = false;
        for (std::size_t i = 1; i < args.size(); ++i) {
            if (args[i] != "--standalone") {
                std::fprintf(stderr, "usage: shoal dev add [--standalone]\n");
                return 2;
            }
            standalone = true;
        }
        return dev_add(dir, nodes, standalone, shoald_path(self_exe), wait_settled);
    }
    if (cmd == "down") {
        int max_id = 0;
        for (const auto& n : nodes) {
            stop_node(dir, n.id);
            max_id = std::max(max_id, n.id);
            set_clock_offset(dir, n.id, 0);  // clock faults end with the cluster
        }
        if (!tag.empty()) netns::destroy(dir, tag, max_id);  // its links, rules and faults go too
        std::printf("cluster in %s stopped%s\n", dir.c_str(), tag.empty() ? "" : "; its network namespaces deleted");
        return 0;
    }
    if (cmd == "status") {
        for (const auto& n : nodes) {
            const int pid = read_pid(dir, n.id);
            const bool up = alive(pid);
            const int health = up ? http_get(n.http, "/health", 500).status : 0;
            std::printf("node %d  pid %-7d %-8s client %s  http %s\n", n.id, pid,
                        !up             ? "dead"
                        : health == 200 ? "serving"
                                        : "silent",
                        n.client.c_str(), n.http.c_str());
        }
        return 0;
    }
    const bool arity = args.size() == 2 || (cmd == "clock" && args.size() == 3);
    const DevNode* named = arity ? find_dev_node(nodes, args[1]) : nullptr;
    if (named == nullptr) {
        std::fprintf(stderr, "shoal dev %s: name a node of this cluster (1..%d)\n", cmd.c_str(), nodes.back().id);
        return 2;
    }
    const int id = named->id;
    const int pid = read_pid(dir, id);
    if (cmd == "kill" || cmd == "stop" || cmd == "cont") {
        const int sig = cmd == "kill" ? SIGKILL : cmd == "stop" ? SIGSTOP : SIGCONT;
        if (!alive(pid) || ::kill(pid, sig) != 0) {
            std::fprintf(stderr, "shoal dev %s: node %d is not running\n", cmd.c_str(), id);
            return 1;
        }
        if (sig == SIGKILL) wait_exit(pid, 5000);
        std::printf("node %d (pid %d): %s\n", id, pid,
                    cmd == "kill"   ? "killed (SIGKILL)"
                    : cmd == "stop" ? "stopped (SIGSTOP)"
                                    : "continued (SIGCONT)");
        return 0;
    }
    if (cmd == "clock") {
        // dev clock N +30s | -5m | 0: restarts node N with its wall clock that far off
        // (shoald's clock_offset_ms: its stamps and TTLs, and its peers, see a host whose
        // clock is set wrong; its deadlines run on the monotonic clock).
        const std::string off = args.size() == 3 ? args[2] : "";
        const bool reset = off == "0";
        const bool valid = off.size() >= 3 && off.size() <= 9 && (off[0] == '+' || off[0] == '-') &&
                           off.find_first_not_of("0123456789", 1) == off.size() - 1 &&
                           std::string("smhd").find(off.back()) != std::string::npos;
        if (!reset && !valid)
            return std::fputs("usage: shoal dev clock NODE +30s|-5m|+1h|+2d|0  (0: the right time again)\n", stderr), 2;
        std::int64_t ms = 0;
        if (!reset) {
            const std::int64_t unit = off.back() == 's' ? 1000 : off.back() == 'm' ? 60000 : off.back() == 'h' ? 3600000 : 86400000;
            ms = std::atoll(off.substr(1, off.size() - 2).c_str()) * unit * (off[0] == '-' ? -1 : 1);
            if (ms < -864000000 || ms > 864000000)
                return std::fputs("shoal dev clock: at most ten days either way\n", stderr), 2;
        }
        stop_node(dir, id);
        if (!set_clock_offset(dir, id, ms)) {
            std::fprintf(stderr, "shoal dev clock: cannot rewrite %s\n", node_file(dir, id, ".conf").c_str());
            return 1;
        }
        if (start_node(dir, id, shoald_path(self_exe)) <= 0 || !wait_healthy(*named, 15000)) {
            std::fprintf(stderr, "shoal dev clock: node %d is not healthy\n", id);
            return 1;
        }
        std::printf("node %d restarted with its clock %s\n", id, reset ? "right again" : (off + " off").c_str());
        return 0;
    }
    if (cmd == "restart") {
        stop_node(dir, id);
        if (start_node(dir, id, shoald_path(self_exe)) <= 0) return 1;
        if (!wait_healthy(*named, 15000)) {
            std::fprintf(stderr, "shoal dev restart: node %d is not healthy\n", id);
            return 1;
        }
        std::printf("node %d restarted (pid %d)\n", id, read_pid(dir, id));
        return 0;
    }
    std::fprintf(stderr, "shoal dev: unknown command '%s'\n", cmd.c_str());
    return 2;
}

}  // namespace shoal::client
