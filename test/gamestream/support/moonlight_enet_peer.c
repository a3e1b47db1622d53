/*
 * A control-stream peer built on Moonlight's own ENet (the cgutman/enet fork that
 * moonlight-common-c links), for an interoperability test: it connects to our libenet host the
 * way Moonlight does (0x30 channels, the connect data, a 10 s peer timeout), sends each payload
 * given on the command line reliably on channel 0, then prints what the host sends until the
 * host disconnects it:
 *
 *   moonlight_enet_peer PORT CONNECT_DATA HEX_PAYLOAD...
 *   stdout: "connected", then "receive CHANNEL HEX" per packet, then "disconnect"
 *
 * The payloads are sealed by the TypeScript test; this program only carries bytes, so it
 * checks the ENet wire format between the two ENet implementations and nothing else.
 */
#include <enet/enet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

static int unhex(const char* hex, unsigned char* out, size_t cap) {
  size_t n = strlen(hex) / 2;
  if (n > cap) return -1;
  for (size_t i = 0; i < n; i++) {
    unsigned v;
    if (sscanf(hex + 2 * i, "%2x", &v) != 1) return -1;
    out[i] = (unsigned char)v;
  }
  return (int)n;
}

int main(int argc, char** argv) {
  if (argc < 3) {
    fprintf(stderr, "usage: %s PORT CONNECT_DATA HEX_PAYLOAD...\n", argv[0]);
    return 2;
  }
  if (enet_initialize() != 0) return 3;
  ENetHost* client = enet_host_create(AF_INET, NULL, 1, 0x30, 0, 0);
  if (client == NULL) return 4;
  ENetAddress address;
  memset(&address, 0, sizeof address);
  if (enet_address_set_host(&address, "127.0.0.1") != 0) return 5;
  enet_address_set_port(&address, (enet_uint16)atoi(argv[1]));
  ENetPeer* peer = enet_host_connect(client, &address, 0x30, (enet_uint32)strtoul(argv[2], NULL, 0));
  if (peer == NULL) return 6;
  ENetEvent event;
  if (enet_host_service(client, &event, 5000) <= 0 || event.type != ENET_EVENT_TYPE_CONNECT) {
    printf("connect failed\n");
    return 7;
  }
  enet_host_flush(client);
  enet_peer_timeout(peer, 2, 10000, 10000);
  printf("connected\n");
  fflush(stdout);
  for (int i = 3; i < argc; i++) {
    unsigned char bytes[2048];
    int n = unhex(argv[i], bytes, sizeof bytes);
    if (n < 0) return 8;
    ENetPacket* packet = enet_packet_create(bytes, (size_t)n, ENET_PACKET_FLAG_RELIABLE);
    if (packet == NULL || enet_peer_send(peer, 0, packet) != 0) return 9;
  }
  enet_host_flush(client);
  for (int waited = 0; waited < 15000; waited += 10) {
    int r = enet_host_service(client, &event, 10);
    if (r < 0) return 10;
    if (r == 0) continue;
    if (event.type == ENET_EVENT_TYPE_RECEIVE) {
      printf("receive %u ", event.channelID);
      for (size_t i = 0; i < event.packet->dataLength; i++) printf("%02x", event.packet->data[i]);
      printf("\n");
      fflush(stdout);
      enet_packet_destroy(event.packet);
    } else if (event.type == ENET_EVENT_TYPE_DISCONNECT) {
      printf("disconnect\n");
      fflush(stdout);
      enet_host_destroy(client);
      return 0;
    }
  }
  printf("timeout\n");
  return 11;
}
