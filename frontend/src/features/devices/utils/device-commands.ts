/** The commands a new device's owner pastes: HTTP ingestion with curl, and the simulator over HTTP and MQTT. */
export function deviceCommands({ deviceId, apiKey, origin, mqttHost }: {
  deviceId: string;
  apiKey: string;
  /** The API's origin, e.g. http://localhost:8000. */
  origin: string;
  /** The broker's host as devices reach it. */
  mqttHost: string;
}) {
  const id = shellQuote(deviceId);
  const key = shellQuote(apiKey);
  return {
    curl:
      `curl -X POST ${shellQuote(`${origin}/api/devices/${encodeURIComponent(deviceId)}/telemetry/`)}` +
      ` -H ${shellQuote(`X-API-Key: ${apiKey}`)} -H 'Content-Type: application/json'` +
      ` -d '{"temperature": 24.5, "humidity": 41}'`,
    simulatorHttp: `python simulator/simulator.py --device-id ${id} --http ${shellQuote(origin)} --api-key ${key}`,
    simulatorMqtt: `python simulator/simulator.py --device-id ${id} --host ${shellQuote(mqttHost)} --username ${id} --password ${key}`,
  };
}

/** A word for a POSIX shell: as it is when it holds only safe characters, else in single quotes. */
export function shellQuote(word: string): string {
  return /^[A-Za-z0-9_.:/@%+=,-]+$/.test(word) ? word : `'${word.replaceAll("'", `'\\''`)}'`;
}
