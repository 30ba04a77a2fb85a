# Sourced by the nginx test servers. write_nginx_conf DIR WORKER_CONNECTIONS writes
# DIR/nginx.conf: what every test nginx needs (its pid file, logs and temp dirs under DIR, so
# several run side by side without root paths), with the lines read from standard input
# placed inside `http { }`.
write_nginx_conf() {
  local dir=$1 connections=$2
  mkdir -p "$dir/tmp"
  {
    cat <<CONF
worker_processes 1;
pid $dir/nginx.pid;
error_log $dir/error.log warn;
events { worker_connections $connections; }
http {
    access_log $dir/access.log;
    client_body_temp_path $dir/tmp/body;
    proxy_temp_path $dir/tmp/proxy;
    fastcgi_temp_path $dir/tmp/fastcgi;
    uwsgi_temp_path $dir/tmp/uwsgi;
    scgi_temp_path $dir/tmp/scgi;
CONF
    cat
    echo "}"
  } > "$dir/nginx.conf"
}
