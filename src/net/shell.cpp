#include "net/shell.h"

#include "net/shell_impl.h"

#include <cstdio>

namespace shoal::net {


std::string Shell::Impl::cluster_json() {
    return membership_.cluster_json(mono_now(), store::sync_mode_name(config_.sync));
}

std::string Shell::Impl::metrics_text() {
    std::string out;
    metrics_.open_client_connections = conns_.count(false);
    metrics_.open_peer_connections = conns_.count(true);
    render_shell_metrics(metrics_, store::sync_mode_name(config_.sync), out);
    render_node_metrics(node_, out);
    membership_.render_metrics(out);
    auto counter = [&](const char* name, std::uint64_t v) { render_counter(out, name, v); };
    const turn::DriverStats& ds = driver_.stats();
    counter("shoal_commits_total", ds.commits);
    counter("shoal_commit_errors_total", ds.commit_errors);
    counter("shoal_commit_turns_total", ds.turns_persisted);
    counter("shoal_commit_failed_replies_total", ds.replies_failed);
    render_gauge(out, "shoal_commit_staged_bytes", driver_.staged_bytes());
    render_gauge(out, "shoal_commit_waiting_turns", driver_.waiting_turns());
    counter("shoal_read_cache_hits_total", store_.cache_hits());
    counter("shoal_read_cache_misses_total", store_.cache_misses());
    render_gauge(out, "shoal_read_cache_keys", store_.cached_keys());
    store_health_.render_metrics(out);
    counter("shoal_log_lines_suppressed_total", log::suppressed_total());
    render_gauge(out, "shoal_inflight_requests", node_.inflight());
    render_process_metrics(out);
    render_family(out, "shoal_peer_link_progress_age_seconds", "gauge");
    for (const auto& [id, link] : links_) {
        char line[128];
        std::snprintf(line, sizeof line, "shoal_peer_link_progress_age_seconds{peer=\"%u\"} %.3f\n", id,
                      static_cast<double>(link->since_progress().us) / 1e6);
        out += line;
    }
    return out;
}

Shell::Shell(asio::io_context& io, replica::Node& node, store::BufferedStore& store, Membership& membership,
             ShellConfig config, std::error_code& ec)
    : impl_(std::make_shared<Impl>(io, node, store, membership, std::move(config))) {
    ec = listen_on(impl_->peer_acceptor_, impl_->config_.peer_host, impl_->config_.peer_port, "peer");
    if (!ec) ec = listen_on(impl_->client_acceptor_, impl_->config_.client_host, impl_->config_.client_port, "client");
}

Shell::~Shell() = default;

void Shell::start() {
    impl_->start();
}
void Shell::stop(Duration grace, std::function<void()> done) {
    impl_->stop(grace, std::move(done));
}
std::uint16_t Shell::peer_port() const {
    return impl_->peer_acceptor_.local_endpoint().port();
}
std::uint16_t Shell::client_port() const {
    return impl_->client_acceptor_.local_endpoint().port();
}

// The Backend's calls (http/server.h) go to the loop's state; commands that change
// the view get their gossip out at once.
void Shell::submit(replica::ClientRequest request, std::function<void(replica::ClientReply)> done) {
    impl_->submit(std::move(request), std::move(done));
}
std::string Shell::cluster_json() {
    return impl_->cluster_json();
}
std::string Shell::metrics_text() {
    return impl_->metrics_text();
}
http::Backend::Health Shell::health() {
    return impl_->health();
}
const replica::Namespaces& Shell::namespaces() const {
    return impl_->node_.namespaces();
}
http::Response Shell::membership(const http::MembershipCall& call) {
    http::Response r = impl_->membership_.command(mono_now(), call);
    impl_->schedule_flush();
    return r;
}
http::Response Shell::namespaces(const http::NamespaceCall& call) {
    http::Response r = impl_->membership_.namespaces(mono_now(), call);
    impl_->schedule_flush();
    return r;
}

}  // namespace shoal::net
