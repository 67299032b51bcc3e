// Package translations makes the embedded kubectl load its message
// translations only when the locale asks for a language other than
// English.
//
// kubectl loads a translation catalogue on its first i18n.T call, which
// happens during package initialisation and costs about 14 ms — paid by
// every agentctl process, twice per sandboxed command (the parent and the
// sandbox child). kubectl's English ("default" and en_US) catalogues map
// every message to itself, so for English, C and POSIX locales not
// loading them prints the same bytes. Any other locale with a kubectl
// translation loads it exactly as upstream kubectl does.
//
// This package must be initialised before any package that calls i18n.T
// at init time. Go initialises packages in import-path order among those
// whose imports are ready; this import path sorts before every k8s.io
// package, and it imports nothing but i18n.
package translations

import (
	"os"
	"strings"

	"k8s.io/kubectl/pkg/util/i18n"
)

// translated are kubectl's non-English catalogues.
var translated = map[string]bool{
	"de_DE": true, "fr_FR": true, "it_IT": true, "ja_JP": true,
	"ko_KR": true, "pt_BR": true, "zh_CN": true, "zh_TW": true,
}

func init() {
	i18n.SetLoadTranslationsFunc(func() error {
		if !translated[language()] {
			return nil // English: the catalogue is the identity
		}
		return i18n.LoadTranslations("kubectl", nil)
	})
}

// language is the language kubectl's loader would pick (LC_ALL,
// LC_MESSAGES, LANG; "lang.encoding" form only).
func language() string {
	s := os.Getenv("LC_ALL")
	if s == "" {
		s = os.Getenv("LC_MESSAGES")
	}
	if s == "" {
		s = os.Getenv("LANG")
	}
	pieces := strings.Split(s, ".")
	if len(pieces) != 2 {
		return "default"
	}
	return pieces[0]
}
