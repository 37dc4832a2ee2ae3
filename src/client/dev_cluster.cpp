#include "client/dev_cluster.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "client/http_get.h"

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

bool alive(int pid) {
    return pid > 0 && ::kill(pid, 0) == 0;
}

std::string shoald_path(const std::string& self_exe) {
    if (const char* env = std::getenv("SHOALD")) return env;
    return (fs::path(self_exe).parent_path() / "shoald").string();
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

int dev_up(const std::string& dir, int count, int base_port, const std::string& shoald) {
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
    if (!fs::exists(shoald)) {
        std::fprintf(stderr, "shoal dev up: shoald not found at %s (set SHOALD)\n", shoald.c_str());
        return 1;
    }
    std::vector<DevNode> nodes;
    std::string members;
    for (int i = 1; i <= count; ++i) {
        const int p = base_port + 10 * i;
        for (int k = 1; k <= 3; ++k) {
            if (!port_free(p + k)) {
                std::fprintf(stderr, "shoal dev up: port %d is in use; pick another --base-port\n", p + k);
                return 1;
            }
        }
        DevNode n{i, "127.0.0.1:" + std::to_string(p + 1), "127.0.0.1:" + std::to_string(p + 2),
                  "127.0.0.1:" + std::to_string(p + 3)};
        members +=
            (members.empty() ? "" : ",") + std::to_string(i) + "@" + n.peer + "/z" + std::to_string((i - 1) % 3 + 1);
        nodes.push_back(n);
    }
    fs::create_directories(dir);
    std::ofstream list(dir + "/nodes");
    for (const auto& n : nodes) {
        list << n.id << ' ' << n.peer << ' ' << n.client << ' ' << n.http << '\n';
        std::ofstream conf(node_file(dir, n.id, ".conf"));
        conf << "# written by shoal dev up\n"
             << "id = " << n.id << "\npeer_listen = " << n.peer << "\nclient_listen = " << n.client
             << "\nhttp_listen = " << n.http << "\ndata_dir = " << fs::absolute(dir).string() << "/n" << n.id
             << "\nmembers = " << members << "\nn = " << std::min(3, count) << "\nr = " << std::min(2, count)
             << "\nw = " << std::min(2, count) << "\n";
    }
    list.close();
    for (const auto& n : nodes) {
        if (start_node(dir, n.id, shoald) <= 0) {
            std::fprintf(stderr, "shoal dev up: cannot start node %d\n", n.id);
            return 1;
        }
    }
    for (const auto& n : nodes) {
        if (!wait_healthy(n, 15000)) {
            std::fprintf(stderr, "shoal dev up: node %d is not healthy; see %s\n", n.id,
                         node_file(dir, n.id, ".log").c_str());
            return 1;
        }
        std::printf("node %d  pid %d  client %s  http %s  peer %s\n", n.id, read_pid(dir, n.id), n.client.c_str(),
                    n.http.c_str(), n.peer.c_str());
    }
    std::printf("%d-node cluster up in %s (logs: %s/n*.log)\n", count, dir.c_str(), dir.c_str());
    return 0;
}

int parse_node(const std::vector<std::string>& args, const std::vector<DevNode>& nodes) {
    if (args.size() < 2) return -1;
    std::string s = args[1];
    if (!s.empty() && s[0] == 'n') s = s.substr(1);
    int id = std::atoi(s.c_str());
    for (const auto& n : nodes) {
        if (n.id == id) return id;
    }
    return -1;
}

}  // namespace

std::vector<DevNode> dev_nodes(const std::string& dir) {
    std::vector<DevNode> out;
    std::ifstream in(dir + "/nodes");
    DevNode n;
    while (in >> n.id >> n.peer >> n.client >> n.http) out.push_back(n);
    return out;
}

int dev_command(const std::vector<std::string>& args, const std::string& dir, const std::string& self_exe) {
    if (args.empty()) {
        std::fprintf(stderr, "usage: shoal dev up N [--base-port P] | down | status | kill|stop|cont|restart NODE\n");
        return 2;
    }
    const std::string& cmd = args[0];
    if (cmd == "up") {
        if (args.size() < 2) {
            std::fprintf(stderr, "usage: shoal dev up N [--base-port P]\n");
            return 2;
        }
        int base = 7100;
        for (std::size_t i = 2; i + 1 < args.size(); ++i) {
            if (args[i] == "--base-port") base = std::atoi(args[i + 1].c_str());
        }
        if (base < 1024 || base > 65000) {
            std::fprintf(stderr, "shoal dev up: --base-port must be 1024..65000\n");
            return 2;
        }
        return dev_up(dir, std::atoi(args[1].c_str()), base, shoald_path(self_exe));
    }
    const auto nodes = dev_nodes(dir);
    if (nodes.empty()) {
        std::fprintf(stderr, "shoal dev %s: no cluster in %s (shoal dev up N first)\n", cmd.c_str(), dir.c_str());
        return 1;
    }
    if (cmd == "down") {
        for (const auto& n : nodes) stop_node(dir, n.id);
        std::printf("cluster in %s stopped\n", dir.c_str());
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
    const int id = parse_node(args, nodes);
    if (id < 0) {
        std::fprintf(stderr, "shoal dev %s: name a node of this cluster (1..%zu)\n", cmd.c_str(), nodes.size());
        return 2;
    }
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
    if (cmd == "restart") {
        stop_node(dir, id);
        if (start_node(dir, id, shoald_path(self_exe)) <= 0) return 1;
        for (const auto& n : nodes) {
            if (n.id == id && !wait_healthy(n, 15000)) {
                std::fprintf(stderr, "shoal dev restart: node %d is not healthy\n", id);
                return 1;
            }
        }
        std::printf("node %d restarted (pid %d)\n", id, read_pid(dir, id));
        return 0;
    }
    std::fprintf(stderr, "shoal dev: unknown command '%s'\n", cmd.c_str());
    return 2;
}

}  // namespace shoal::client
