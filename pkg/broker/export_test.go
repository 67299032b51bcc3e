package broker

// IdleWorkers is how many warm workers wait for a request, -1 without a
// pool; call it only after the server's Ready.
func IdleWorkers(s *Server) int {
	if s.pool == nil {
		return -1
	}
	return len(s.pool.idle)
}
