package kafka_test

const childEnv = "GALE_KAFKA_SPOUT_CHILD"

func runChild() int { return 0 }
