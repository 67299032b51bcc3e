package policy

import "errors"

// shellWords splits a command line of a test case into words the way a
// POSIX shell would for plain words, 'single' and "double" quotes and
// backslash escapes. Nothing is expanded.
func shellWords(line string) ([]string, error) {
	var words []string
	var cur []byte
	inWord := false
	for i := 0; i < len(line); i++ {
		c := line[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n':
			if inWord {
				words, cur, inWord = append(words, string(cur)), cur[:0], false
			}
		case c == '\\' && i+1 < len(line):
			i++
			cur, inWord = append(cur, line[i]), true
		case c == '\'':
			j := i + 1
			for j < len(line) && line[j] != '\'' {
				j++
			}
			if j == len(line) {
				return nil, errors.New("unterminated single quote")
			}
			cur, inWord, i = append(cur, line[i+1:j]...), true, j
		case c == '"':
			inWord = true
			j := i + 1
			for ; j < len(line) && line[j] != '"'; j++ {
				if line[j] == '\\' && j+1 < len(line) && (line[j+1] == '"' || line[j+1] == '\\') {
					j++
				}
				cur = append(cur, line[j])
			}
			if j == len(line) {
				return nil, errors.New("unterminated double quote")
			}
			i = j
		default:
			cur, inWord = append(cur, c), true
		}
	}
	if inWord {
		words = append(words, string(cur))
	}
	return words, nil
}
