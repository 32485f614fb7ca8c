"""order-tracker gateway: one consistent answer to "where is my order?" over three upstreams."""
