package webapprove

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"strings"
	"time"
)

// notifyTimeout bounds one notification.
const notifyTimeout = 10 * time.Second

// CheckNotify checks an approval.notify setting: "" (none), an http(s)
// URL, or a shell command.
func CheckNotify(spec string) error {
	if !isURL(spec) {
		return nil
	}
	u, err := url.Parse(spec)
	if err != nil || u.Host == "" {
		return fmt.Errorf("%q is not a webhook URL", spec)
	}
	return nil
}

func isURL(spec string) bool {
	return strings.HasPrefix(spec, "http://") || strings.HasPrefix(spec, "https://")
}

// Notifier returns what tells a person that a request waits, as spec
// says: an http(s) URL gets a JSON POST of {text, url, id, class}; any
// other text is a command run with /bin/sh -c, with AGENTCTL_APPROVAL_URL,
// AGENTCTL_APPROVAL_ID and AGENTCTL_APPROVAL_CLASS in an environment of
// their own and PATH, HOME, USER and LANG (not the broker's: it may hold
// credentials). Its failures go to logf. "" is nil.
func Notifier(spec string, logf func(format string, args ...any)) func(Notice) {
	if spec == "" {
		return nil
	}
	if isURL(spec) {
		return func(n Notice) {
			if err := postNotice(spec, n); err != nil {
				logf("approval.notify: %v", err)
			}
		}
	}
	return func(n Notice) {
		ctx, cancel := context.WithTimeout(context.Background(), notifyTimeout)
		defer cancel()
		cmd := exec.CommandContext(ctx, "/bin/sh", "-c", spec)
		cmd.Env = []string{"AGENTCTL_APPROVAL_URL=" + n.Link, "AGENTCTL_APPROVAL_ID=" + n.ID, "AGENTCTL_APPROVAL_CLASS=" + n.Class,
			"AGENTCTL_APPROVAL_TEXT=" + n.Text()}
		for _, k := range []string{"PATH", "HOME", "USER", "LANG"} {
			if v, ok := os.LookupEnv(k); ok {
				cmd.Env = append(cmd.Env, k+"="+v)
			}
		}
		if out, err := cmd.CombinedOutput(); err != nil {
			logf("approval.notify: the command failed: %v: %s", err, bytes.TrimSpace(out))
		}
	}
}

// Text is the one line a notification says.
func (n Notice) Text() string {
	return fmt.Sprintf("agentctl: a %s request (%s) waits for your approval: %s", n.Class, shortID(n.ID), n.Link)
}

func postNotice(hook string, n Notice) error {
	b, _ := json.Marshal(map[string]string{"text": n.Text(), "url": n.Link, "id": n.ID, "class": n.Class})
	ctx, cancel := context.WithTimeout(context.Background(), notifyTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, hook, bytes.NewReader(b))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		// Not the URL: a webhook's often holds its token.
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return fmt.Errorf("webhook: %w", err)
	}
	resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("webhook answered %s", resp.Status)
	}
	return nil
}
