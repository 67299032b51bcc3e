package vaulttest

import (
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"time"
)

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	p, ok := strings.CutPrefix(r.URL.Path, "/v1/")
	if !ok {
		fail(w, http.StatusNotFound)
		return
	}
	var body map[string]any
	if r.Body != nil && (r.Method == http.MethodPost || r.Method == http.MethodPut) {
		if err := json.NewDecoder(r.Body).Decode(&body); err != nil && err.Error() != "EOF" {
			fail(w, http.StatusBadRequest, "failed to parse JSON input: "+err.Error())
			return
		}
	}
	str := func(k string) string { v, _ := body[k].(string); return v }
	switch {
	case p == "auth/approle/login":
		s.count("login")
		if !post(w, r) {
			return
		}
		want, ok := s.cfg.AppRoles[str("role_id")]
		if !ok || want != str("secret_id") {
			fail(w, http.StatusBadRequest, "invalid role or secret ID")
			return
		}
		s.login(w, "approle")
		return
	case p == "auth/kubernetes/login":
		s.count("login")
		if !post(w, r) {
			return
		}
		want, ok := s.cfg.KubernetesLogins[str("role")]
		if !ok {
			fail(w, http.StatusBadRequest, `invalid role name "`+str("role")+`"`)
			return
		}
		if want != str("jwt") {
			fail(w, http.StatusForbidden, "permission denied")
			return
		}
		s.login(w, "kubernetes")
		return
	}
	if !s.authorized(r) {
		fail(w, http.StatusForbidden, "permission denied")
		return
	}
	switch {
	case p == "auth/token/lookup-self":
		s.count("lookup-self")
		reply(w, map[string]any{"data": map[string]any{
			"accessor": randomString(24), "display_name": "token", "id": r.Header.Get("X-Vault-Token"),
			"policies": []string{"default"}, "renewable": false, "ttl": 0, "type": "service", "orphan": true,
			"path": "auth/token/create", "num_uses": 0, "meta": nil, "expire_time": nil,
		}})
	case p == "sys/leases/revoke":
		s.count("revoke")
		if r.Method != http.MethodPut && r.Method != http.MethodPost {
			fail(w, http.StatusMethodNotAllowed, "1 error occurred:\n\t* unsupported operation\n\n")
			return
		}
		id := str("lease_id")
		if id == "" {
			fail(w, http.StatusBadRequest, "lease_id is required")
			return
		}
		s.mu.Lock()
		s.revoked = append(s.revoked, id)
		s.leases[id] = false
		s.mu.Unlock()
		w.WriteHeader(http.StatusNoContent)
	case strings.HasPrefix(p, s.cfg.KubernetesMount+"/creds/") && r.Method != http.MethodGet:
		s.count("creds")
		s.kubernetesCreds(w, p, strings.TrimPrefix(p, s.cfg.KubernetesMount+"/creds/"), str("kubernetes_namespace"), str("ttl"))
	case strings.Contains(p, "/data/") && r.Method == http.MethodGet:
		s.count("kv")
		mount, path, _ := strings.Cut(p, "/data/")
		data, ok := s.cfg.KV[mount+"/"+path]
		if !ok {
			fail(w, http.StatusNotFound)
			return
		}
		reply(w, map[string]any{"lease_id": "", "lease_duration": 0, "renewable": false, "data": map[string]any{
			"data": data,
			"metadata": map[string]any{"created_time": time.Now().UTC().Format(time.RFC3339Nano), "custom_metadata": nil,
				"deletion_time": "", "destroyed": false, "version": 1},
		}})
	case r.Method == http.MethodGet && s.cfg.Dynamic[p] != nil:
		s.count("dynamic")
		reply(w, map[string]any{"lease_id": s.newLease(p), "lease_duration": int(s.cfg.LeaseTTL / time.Second),
			"renewable": true, "data": s.cfg.Dynamic[p]()})
	default:
		fail(w, http.StatusNotFound)
	}
}

func (s *Server) kubernetesCreds(w http.ResponseWriter, path, role, ns, ttl string) {
	kr, ok := s.cfg.KubernetesRoles[role]
	if !ok {
		fail(w, http.StatusBadRequest, `role '`+role+`' does not exist`)
		return
	}
	if ns == "" {
		fail(w, http.StatusBadRequest, "'kubernetes_namespace' is required")
		return
	}
	if !slices.Contains(kr.AllowedNamespaces, ns) && !slices.Contains(kr.AllowedNamespaces, "*") {
		fail(w, http.StatusBadRequest, `kubernetes_namespace '`+ns+`' is not present in role's allowed_kubernetes_namespaces`)
		return
	}
	d := s.cfg.LeaseTTL
	if ttl != "" {
		var err error
		if d, err = time.ParseDuration(ttl); err != nil {
			fail(w, http.StatusBadRequest, "invalid ttl: "+err.Error())
			return
		}
	}
	token, sa, err := kr.Mint(ns, d)
	if err != nil {
		fail(w, http.StatusInternalServerError, "failed to create a service account token: "+err.Error())
		return
	}
	reply(w, map[string]any{
		"lease_id": s.newLease(path), "lease_duration": int(d / time.Second), "renewable": false,
		"data": map[string]any{"service_account_name": sa, "service_account_namespace": ns, "service_account_token": token},
	})
}

func (s *Server) login(w http.ResponseWriter, method string) {
	reply(w, map[string]any{"lease_id": "", "lease_duration": 0, "renewable": false, "data": nil, "auth": map[string]any{
		"client_token": s.IssueToken(), "accessor": randomString(24), "policies": []string{"default", "agentctl"},
		"token_policies": []string{"default", "agentctl"}, "metadata": map[string]any{"method": method},
		"lease_duration": 3600, "renewable": true, "token_type": "service", "orphan": true,
	}})
}

func (s *Server) authorized(r *http.Request) bool {
	t := r.Header.Get("X-Vault-Token")
	s.mu.Lock()
	defer s.mu.Unlock()
	return t != "" && s.tokens[t]
}

func (s *Server) count(endpoint string) {
	s.mu.Lock()
	s.calls[endpoint]++
	s.mu.Unlock()
}

func post(w http.ResponseWriter, r *http.Request) bool {
	if r.Method != http.MethodPost && r.Method != http.MethodPut {
		fail(w, http.StatusMethodNotAllowed, "1 error occurred:\n\t* unsupported operation\n\n")
		return false
	}
	return true
}

func reply(w http.ResponseWriter, v map[string]any) {
	v["request_id"] = randomString(8) + "-" + randomString(4) + "-" + randomString(4) + "-" + randomString(4) + "-" + randomString(12)
	for _, k := range []string{"wrap_info", "warnings", "auth", "data"} {
		if _, ok := v[k]; !ok {
			v[k] = nil
		}
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(v)
}

// fail writes Vault's error body: {"errors":[...]} (empty for 404).
func fail(w http.ResponseWriter, code int, msgs ...string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	if msgs == nil {
		msgs = []string{}
	}
	_ = json.NewEncoder(w).Encode(map[string]any{"errors": msgs})
}
