package worker

import "testing"

func TestInitKey(t *testing.T) {
	base := []string{"LANG=C.UTF-8", "TERM=xterm", "HOME=/h"}
	for _, tc := range []struct {
		name string
		env  []string
		same bool
	}{
		{"only what init does not read differs: TERM, NO_COLOR, KUBECONFIG", []string{"TERM=dumb", "NO_COLOR=1", "LANG=C.UTF-8", "KUBECONFIG=/k"}, true},
		{"order does not matter", []string{"HOME=/h", "LANG=C.UTF-8"}, true},
		{"another LANG: kubectl's catalogue", []string{"LANG=de_DE.UTF-8"}, false},
		{"LC_CTYPE: go-runewidth's init", []string{"LANG=C.UTF-8", "LC_CTYPE=ja_JP.UTF-8"}, false},
		{"LC_ALL", []string{"LANG=C.UTF-8", "LC_ALL=C"}, false},
		{"TZ: time.Local loads once", []string{"LANG=C.UTF-8", "TZ=Asia/Tokyo"}, false},
		{"no LANG at all", []string{"TERM=xterm"}, false},
	} {
		if got := InitKey(tc.env) == InitKey(base); got != tc.same {
			t.Errorf("%s: same key %v, want %v", tc.name, got, tc.same)
		}
	}
}
