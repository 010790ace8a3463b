"""The client pool keeps paho's share of a backlog to one window, the rest in its own queue."""
from devtools.waiting import wait_until
from mqtt_pool import BUFFERED, SENT, BrokerSettings, ClientPool


def test_a_burst_past_the_window_waits_in_the_links_queue_and_all_of_it_is_acknowledged(
    mqtt_broker, subscriber_for, unique_prefix
):
    subscriber = subscriber_for(mqtt_broker)
    pool = ClientPool(BrokerSettings(host="127.0.0.1", port=mqtt_broker.port), [f"{unique_prefix}-pool"],
                      max_inflight=5, max_buffered=1000)
    assert pool.connect(retries=0, should_stop=lambda: False)
    link = pool.links[0]

    outcomes = [pool.publish(0, f"devices/{unique_prefix}-{n % 7}/telemetry",
                             f'{{"deviceId": "{unique_prefix}-{n % 7}", "temperature": {n}}}', 1)
                for n in range(300)]
    # paho walks every message it holds on each acknowledgement: it holds the window only.
    assert len(link.client._out_messages) <= 5 and len(link.queue) >= 295
    assert set(outcomes) <= {SENT, BUFFERED} and pool.pending == 300

    def drained():
        pool.poll(0.05)
        assert len(link.client._out_messages) <= 5
        return pool.pending == 0

    wait_until(drained, timeout=20)
    pool.close(drain_seconds=1)
    assert pool.acked == 300
    wait_until(lambda: len(subscriber.received(unique_prefix)) == 300, timeout=10)
